'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { prefersJson, cleanFilename } = require('../lib/app');
const { escapeHtml } = require('../lib/page');
const { isValidId, redactPassword } = require('../lib/store');

test('JSON is chosen only when Accept ranks it above HTML', () => {
  assert.equal(prefersJson('application/json'), true);
  assert.equal(prefersJson('application/json, text/plain;q=0.5'), true);
  assert.equal(prefersJson('text/html;q=0.5, application/*'), true);
  assert.equal(prefersJson(undefined), false);
  assert.equal(prefersJson('*/*'), false);
  assert.equal(prefersJson('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'), false);
  assert.equal(prefersJson('text/html, application/json'), false);
  assert.equal(prefersJson('application/json;q=0'), false);
  assert.equal(prefersJson('application/json;q=0.4, text/html;q=0.5'), false);
});

test('filenames are reduced to a clean last path segment', () => {
  assert.equal(cleanFilename('cat.png'), 'cat.png');
  assert.equal(cleanFilename('C:\\Users\\me\\cat.png'), 'cat.png');
  assert.equal(cleanFilename('../../etc/passwd'), 'passwd');
  assert.equal(cleanFilename('a\u0000b\u001fc\u007f.gif'), 'abc.gif');
  assert.equal(cleanFilename('x'.repeat(300)).length, 255);
  assert.equal(cleanFilename(undefined), 'image');
  assert.equal(cleanFilename('dir/'), 'image');
});

test('escapeHtml covers element content and quoted attributes', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});

test('ids are exactly 32 lowercase hex characters', () => {
  assert.equal(isValidId('0123456789abcdef0123456789abcdef'), true);
  for (const id of ['', '0123456789ABCDEF0123456789ABCDEF', '0123456789abcdef0123456789abcde', '0123456789abcdef0123456789abcdef\n']) {
    assert.equal(isValidId(id), false, JSON.stringify(id));
  }
});

test('a Redis password never reaches the logs', () => {
  assert.equal(redactPassword('redis://:s3cret@redis:6379'), 'redis://:***@redis:6379');
  assert.equal(redactPassword('redis://user:s3cret@redis:6379/0'), 'redis://user:***@redis:6379/0');
  assert.equal(redactPassword('redis://redis:6379'), 'redis://redis:6379');
  assert.equal(redactPassword('not a url'), '(unparsable REDIS_URL)');
});
