'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { getBoundary, parseMultipart, MultipartError } = require('../lib/multipart');

// Encodes a FormData the way a real client does, with the runtime's own encoder.
async function encode(form) {
  const response = new Response(form);
  return {
    contentType: response.headers.get('content-type'),
    body: Buffer.from(await response.arrayBuffer()),
  };
}

function body(...lines) {
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

test('getBoundary accepts multipart/form-data only, quoted or not', () => {
  assert.equal(getBoundary('multipart/form-data; boundary=abc123'), 'abc123');
  assert.equal(getBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b;c"'), 'a b;c');
  assert.equal(getBoundary('multipart/form-data'), null);
  assert.equal(getBoundary('multipart/mixed; boundary=abc'), null);
  assert.equal(getBoundary('application/json'), null);
  assert.equal(getBoundary(undefined), null);
  assert.equal(getBoundary(`multipart/form-data; boundary=${'x'.repeat(71)}`), null);
});

test('parses what fetch/FormData sends, binary bytes intact', async () => {
  const bytes = Buffer.from([0x00, 0x0d, 0x0a, 0x2d, 0x2d, 0xff, 0x0d, 0x0a]);
  const form = new FormData();
  form.append('title', 'hello');
  form.append('image', new Blob([bytes], { type: 'image/png' }), 'ümlaut "quoted".png');
  const { contentType, body: encoded } = await encode(form);

  const parts = parseMultipart(encoded, getBoundary(contentType));
  assert.equal(parts.length, 2);
  assert.deepEqual(
    { name: parts[0].name, filename: parts[0].filename, data: parts[0].data.toString() },
    { name: 'title', filename: undefined, data: 'hello' },
  );
  assert.equal(parts[1].name, 'image');
  assert.equal(parts[1].contentType, 'image/png');
  assert.deepEqual(parts[1].data, bytes);
  assert.equal(parts[1].filename, 'ümlaut "quoted".png');
});

test('parses a hand-written body: preamble, quoted-pair filename, epilogue', () => {
  const encoded = body(
    'this preamble is ignored',
    '--XyZ',
    'Content-Disposition: form-data; name="image"; filename="a \\"b\\".gif"',
    'Content-Type: image/gif',
    '',
    'GIF89a',
    '--XyZ--',
    'epilogue');
  const [part] = parseMultipart(encoded, 'XyZ');
  assert.equal(part.name, 'image');
  assert.equal(part.filename, 'a "b".gif');
  assert.equal(part.data.toString(), 'GIF89a');
});

test('a part may be empty', () => {
  const encoded = body(
    '--b',
    'Content-Disposition: form-data; name="image"; filename="empty.png"',
    '',
    '',
    '--b--',
    '');
  const [part] = parseMultipart(encoded, 'b');
  assert.equal(part.data.length, 0);
});

test('malformed bodies raise MultipartError', () => {
  const malformed = {
    'no delimiter': body('just text'),
    truncated: body('--b', 'Content-Disposition: form-data; name="image"', '', 'data without end'),
    'no headers end': body('--b', 'Content-Disposition: form-data; name="image"'),
    'no headers': body('--b', '', 'data', '--b--'),
    'not form-data': body('--b', 'Content-Disposition: attachment; name="image"', '', 'x', '--b--'),
    'no name': body('--b', 'Content-Disposition: form-data; filename="x"', '', 'x', '--b--'),
    'garbage after delimiter': body('--bogus', 'Content-Disposition: form-data; name="x"', '', 'x', '--b--'),
  };
  for (const [what, encoded] of Object.entries(malformed)) {
    assert.throws(() => parseMultipart(encoded, 'b'), MultipartError, what);
  }
});
