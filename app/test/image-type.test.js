'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { detectImageType } = require('../lib/image-type');
const { IMAGES } = require('../test-support/harness');

test('recognises each supported format by its magic bytes', () => {
  for (const [type, bytes] of Object.entries(IMAGES)) {
    assert.equal(detectImageType(bytes), type);
  }
  assert.equal(detectImageType(Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1')), 'image/gif');
});

test('refuses what only looks like an image by name or is truncated', () => {
  const notImages = [
    Buffer.alloc(0),
    Buffer.from('hello, I am a text file named x.png\n'),
    Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a]), // PNG signature cut short
    Buffer.from([0xff, 0xd8]),
    Buffer.from('GIF88a'),
    Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1'), // RIFF, but audio
    Buffer.from('RIFF\x24\x00\x00\x00WEB', 'latin1'),
  ];
  for (const bytes of notImages) {
    assert.equal(detectImageType(bytes), null, `expected no type for ${bytes.toString('hex')}`);
  }
});
