'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { commandOptions } = require('redis');

const { startRedis, startApp, upload, IMAGES } = require('../test-support/harness');
const { IMAGE_KEY_PREFIX, IMAGE_LIST_KEY } = require('../lib/store');

const MAX_UPLOAD_BYTES = 1024;
const OVERHEAD_BYTES = 65536;
const ID = /^[0-9a-f]{32}$/;

let redis;
let gallery;

before(async () => {
  redis = await startRedis();
  gallery = await startApp({
    redisUrl: redis.url,
    maxUploadBytes: MAX_UPLOAD_BYTES,
    multipartOverheadBytes: OVERHEAD_BYTES,
  });
});

after(async () => {
  await gallery?.close();
  await redis?.stop();
});

/** What Redis holds right now: the number of keys and of listed ids. */
async function stored() {
  return { keys: await redis.client.dbSize(), listed: await redis.client.lLen(IMAGE_LIST_KEY) };
}

async function apiList() {
  const response = await fetch(`${gallery.base}/api/images`);
  assert.equal(response.status, 200);
  return response.json();
}

/** Asserts that `attempt` changes nothing in Redis and returns its response. */
async function assertStoresNothing(attempt) {
  const before = await stored();
  const listBefore = await apiList();
  const response = await attempt();
  assert.deepEqual(await stored(), before);
  assert.deepEqual(await apiList(), listBefore);
  return response;
}

// A POST through node:http, for what fetch cannot do: Expect: 100-continue,
// and a body that keeps coming after the server has answered.
function rawPost(headers, writeBody) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: gallery.port, method: 'POST', path: '/images', headers,
    });
    let continued = false;
    let answered = false;
    req.on('continue', () => { continued = true; });
    req.on('response', (res) => {
      answered = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString(), continued });
        req.destroy();
      });
    });
    // The server closes the connection after refusing a body, which may cut
    // our sending short; only an error before any answer is a failure.
    req.on('error', (err) => { if (!answered) reject(err); });
    writeBody(req);
  });
}

test('each supported type is stored and served back byte for byte', async () => {
  for (const [type, bytes] of Object.entries(IMAGES)) {
    const filename = `tiny.${type.split('/')[1]}`;
    const response = await upload(gallery.base, bytes, { filename, type });
    assert.equal(response.status, 201, type);
    assert.equal(response.headers.get('x-served-by'), 'test-host');
    const json = await response.json();
    assert.match(json.id, ID);
    assert.deepEqual(json, {
      id: json.id, type, size: bytes.length, name: filename, url: `/images/${json.id}`, servedBy: 'test-host',
    });
    assert.equal(response.headers.get('location'), json.url);

    const [data, storedType] = await redis.client.hmGet(
      commandOptions({ returnBuffers: true }), IMAGE_KEY_PREFIX + json.id, ['data', 'type'],
    );
    assert.deepEqual(data, bytes);
    assert.equal(storedType.toString(), type);
    assert.equal((await redis.client.lRange(IMAGE_LIST_KEY, 0, 0))[0], json.id);

    const image = await fetch(`${gallery.base}${json.url}`);
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('content-type'), type);
    assert.equal(image.headers.get('content-length'), String(bytes.length));
    assert.equal(image.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(image.headers.get('x-served-by'), 'test-host');
    assert.deepEqual(Buffer.from(await image.arrayBuffer()), bytes);
  }
});

test('the type comes from the content, not from the filename or declared type', async () => {
  const response = await upload(gallery.base, IMAGES['image/png'], { filename: 'evil.jpg', type: 'image/jpeg' });
  assert.equal(response.status, 201);
  const json = await response.json();
  assert.equal(json.type, 'image/png');
  assert.equal(json.name, 'evil.jpg');
  assert.equal(await redis.client.hGet(IMAGE_KEY_PREFIX + json.id, 'type'), 'image/png');
  const image = await fetch(`${gallery.base}${json.url}`);
  assert.equal(image.headers.get('content-type'), 'image/png');
});

test('a text file named x.png is refused with 415 and nothing is stored', async () => {
  const response = await assertStoresNothing(() => upload(
    gallery.base, Buffer.from('I am not an image\n'), { filename: 'x.png', type: 'image/png' },
  ));
  assert.equal(response.status, 415);
  assert.match((await response.json()).error, /PNG, JPEG, GIF or WebP/);
});

test('an empty file is refused with 400 and nothing is stored', async () => {
  const response = await assertStoresNothing(() => upload(
    gallery.base, Buffer.alloc(0), { filename: 'empty.png', type: 'image/png' },
  ));
  assert.equal(response.status, 400);
  assert.match((await response.json()).error, /empty/);
});

test('a form without an "image" field is refused with 400', async () => {
  const response = await assertStoresNothing(() => upload(
    gallery.base, IMAGES['image/png'], { field: 'file', filename: 'a.png' },
  ));
  assert.equal(response.status, 400);
  assert.match((await response.json()).error, /"image" field/);
});

test('a body that is not multipart is refused with 400', async () => {
  const response = await assertStoresNothing(() => fetch(`${gallery.base}/images`, {
    method: 'POST', headers: { 'Content-Type': 'image/png' }, body: IMAGES['image/png'],
  }));
  assert.equal(response.status, 400);
  assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.match(await response.text(), /multipart\/form-data/);
});

test('a file over MAX_UPLOAD_BYTES is refused with 413 and nothing is stored', async () => {
  const big = Buffer.concat([IMAGES['image/png'], Buffer.alloc(MAX_UPLOAD_BYTES)]);
  const response = await assertStoresNothing(() => upload(gallery.base, big, { filename: 'big.png' }));
  assert.equal(response.status, 413);
  assert.match((await response.json()).error, new RegExp(`${MAX_UPLOAD_BYTES} bytes`));

  const justFits = Buffer.concat([IMAGES['image/png'], Buffer.alloc(MAX_UPLOAD_BYTES - IMAGES['image/png'].length)]);
  assert.equal((await upload(gallery.base, justFits, { filename: 'fits.png' })).status, 201);
});

test('an oversize Content-Length is refused before the body is sent', async () => {
  const response = await assertStoresNothing(() => rawPost({
    'Content-Type': 'multipart/form-data; boundary=x',
    'Content-Length': String(MAX_UPLOAD_BYTES + OVERHEAD_BYTES + 1),
    Expect: '100-continue',
  }, (req) => req.flushHeaders()));
  assert.equal(response.status, 413);
  assert.equal(response.continued, false);
  assert.equal(response.headers.connection, 'close');
  assert.equal(response.headers['x-served-by'], 'test-host');
});

test('an oversize body without Expect is refused from its Content-Length', async () => {
  const length = MAX_UPLOAD_BYTES + OVERHEAD_BYTES + 1;
  const response = await assertStoresNothing(() => rawPost({
    'Content-Type': 'multipart/form-data; boundary=x',
    'Content-Length': String(length),
  }, (req) => req.end(Buffer.alloc(length))));
  assert.equal(response.status, 413);
  assert.equal(response.headers.connection, 'close');
});

test('a streamed body without Content-Length is cut off at the limit with 413', async () => {
  let sent = 0;
  const response = await assertStoresNothing(() => rawPost({
    'Content-Type': 'multipart/form-data; boundary=x',
    'Transfer-Encoding': 'chunked',
    Accept: 'application/json',
  }, (req) => {
    const pump = () => {
      // Bounded, so that a server that never answers fails the test instead of hanging it.
      while (sent < 4 * (MAX_UPLOAD_BYTES + OVERHEAD_BYTES) && !req.destroyed) {
        sent += 16384;
        if (!req.write(Buffer.alloc(16384))) {
          req.once('drain', pump);
          return;
        }
      }
      if (!req.destroyed) req.end();
    };
    pump();
  }));
  assert.equal(response.status, 413);
  assert.match(JSON.parse(response.body).error, /larger than the limit/);
});

test('an unknown id is 404, a malformed one 400', async () => {
  const unknown = await fetch(`${gallery.base}/images/${'0'.repeat(32)}`);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.headers.get('x-served-by'), 'test-host');
  for (const id of ['abc', 'A'.repeat(32), '0'.repeat(33), '..%2F..%2Fetc', 'gallery:images']) {
    const response = await fetch(`${gallery.base}/images/${id}`);
    assert.equal(response.status, 400, id);
  }
});

test('a form upload without a JSON Accept header is redirected to the gallery', async () => {
  const { listed } = await stored();
  const response = await upload(gallery.base, IMAGES['image/gif'], {
    filename: 'form.gif', accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  });
  assert.equal(response.status, 303);
  assert.equal(response.headers.get('location'), '/');
  assert.equal((await stored()).listed, listed + 1);
  assert.equal((await apiList())[0].name, 'form.gif');
});

test('the page lists uploaded images newest first and tells who served it', async () => {
  const first = await (await upload(gallery.base, IMAGES['image/jpeg'], { filename: 'first.jpg' })).json();
  const second = await (await upload(gallery.base, IMAGES['image/webp'], { filename: 'second.webp' })).json();

  const response = await fetch(`${gallery.base}/`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(response.headers.get('x-served-by'), 'test-host');
  const html = await response.text();

  assert.match(html, /<title>Image gallery<\/title>/);
  assert.match(html, /<p id="served-by">Served by test-host<\/p>/);
  assert.match(html, /<form method="post" action="\/images" enctype="multipart\/form-data">/);
  assert.match(html, /<input type="file" name="image" accept="image\/png,image\/jpeg,image\/gif,image\/webp"/);
  assert.match(html, /<button type="submit">/);

  const thumbs = [...html.matchAll(/<a href="\/images\/([0-9a-f]{32})"><img ([^>]*)><\/a>/g)];
  assert.equal(thumbs.length, (await stored()).listed);
  assert.deepEqual(thumbs.slice(0, 2).map((m) => m[1]), [second.id, first.id]);
  const attributes = thumbs[0][2];
  assert.match(attributes, /class="thumb"/);
  assert.match(attributes, new RegExp(`data-id="${second.id}"`));
  assert.match(attributes, new RegExp(`src="/images/${second.id}"`));
  assert.match(attributes, /loading="lazy"/);
  assert.match(attributes, /alt="second\.webp"/);
  assert.match(html, /\.thumb \{[^}]*object-fit: cover/);
});

test('filenames are HTML-escaped in the page', async () => {
  const name = '<script>alert("x")&\'.png';
  const response = await upload(gallery.base, IMAGES['image/png'], { filename: name });
  assert.equal(response.status, 201);
  assert.equal((await response.json()).name, name);

  const html = await (await fetch(`${gallery.base}/`)).text();
  assert.ok(!html.includes('<script>'), 'raw <script> in the page');
  assert.ok(html.includes('alt="&lt;script&gt;alert(&quot;x&quot;)&amp;&#39;.png"'));
});

test('/api/images lists metadata newest first', async () => {
  const uploaded = await (await upload(gallery.base, IMAGES['image/gif'], { filename: 'api.gif' })).json();
  const list = await apiList();
  assert.equal(list.length, (await stored()).listed);
  const [newest] = list;
  assert.equal(typeof newest.created, 'number');
  assert.ok(Math.abs(Date.now() - newest.created) < 60000);
  assert.deepEqual(newest, {
    id: uploaded.id, type: 'image/gif', size: IMAGES['image/gif'].length, name: 'api.gif',
    created: newest.created, url: `/images/${uploaded.id}`,
  });
  const created = list.map((image) => image.created);
  assert.deepEqual(created, [...created].sort((a, b) => b - a));
});

test('unknown paths are 404, wrong methods 405 with Allow', async () => {
  const notFound = await fetch(`${gallery.base}/nope`);
  assert.equal(notFound.status, 404);
  assert.equal(notFound.headers.get('x-served-by'), 'test-host');

  const cases = [
    ['DELETE', '/', 'GET, HEAD'],
    ['GET', '/images', 'POST'],
    ['PUT', `/images/${'0'.repeat(32)}`, 'GET, HEAD'],
    ['POST', '/api/images', 'GET, HEAD'],
    ['POST', '/healthz', 'GET, HEAD'],
  ];
  for (const [method, path, allow] of cases) {
    const response = await fetch(`${gallery.base}${path}`, { method });
    assert.equal(response.status, 405, `${method} ${path}`);
    assert.equal(response.headers.get('allow'), allow);
    assert.equal(response.headers.get('x-served-by'), 'test-host');
  }
});

test('HEAD of an image gives its headers without the body', async () => {
  const { id } = (await apiList())[0];
  const response = await fetch(`${gallery.base}/images/${id}`, { method: 'HEAD' });
  assert.equal(response.status, 200);
  assert.ok(Number(response.headers.get('content-length')) > 0);
  assert.equal((await response.arrayBuffer()).byteLength, 0);
});

test('/healthz answers ok while Redis answers PING', async () => {
  const response = await fetch(`${gallery.base}/healthz`);
  assert.equal(response.status, 200);
  assert.equal(await response.text(), 'ok\n');
  assert.equal(response.headers.get('x-served-by'), 'test-host');
});

test('each request is logged as one line: method, path, status, duration', async () => {
  await fetch(`${gallery.base}/healthz?probe=1`);
  await fetch(`${gallery.base}/images/bad-id`);
  const lines = gallery.logs.filter((line) => /^(GET|HEAD|POST|PUT|DELETE) /.test(line));
  assert.match(lines.at(-2), /^GET \/healthz 200 \d+\.\dms$/);
  assert.match(lines.at(-1), /^GET \/images\/bad-id 400 \d+\.\dms$/);
});
