'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');

const {
  freePort, waitFor, startRedis, startReplica, waitForReplication, startApp, upload, healthz, cleanupsAfterAll, IMAGES,
} = require('../test-support/harness');
const { IMAGE_LIST_KEY } = require('../lib/store');

const cleanups = cleanupsAfterAll();

/**
 * Requests `paths` in turn, over and over, until stop(). `seen` gets one
 * "status store path" line per response, and stop() resolves to them; a
 * request that fails outright makes stop() reject.
 */
function readContinuously(base, paths) {
  let stopped = false;
  const seen = [];
  const loop = (async () => {
    while (!stopped) {
      for (const path of paths) {
        const response = await fetch(`${base}${path}`);
        await response.arrayBuffer();
        seen.push(`${response.status} ${response.headers.get('x-store')} ${path}`);
      }
    }
  })();
  return {
    seen,
    async stop() {
      stopped = true;
      await loop;
      return seen;
    },
  };
}

/**
 * A primary, its synced replica, and the app connected to both. `primary` may
 * be replaced by a restarted one; whichever is there last gets stopped.
 */
async function startWithReplica(options = {}) {
  const stack = { primary: await startRedis() };
  cleanups.push(() => stack.primary.stop());
  stack.replica = await startReplica(stack.primary);
  cleanups.push(() => stack.replica.stop());
  stack.gallery = await startApp({ redisUrl: stack.primary.url, redisReplicaUrl: stack.replica.url, ...options });
  cleanups.push(() => stack.gallery.close());
  await waitFor(async () => (await healthz(stack.gallery.base)).body === 'ok: primary\n', { what: 'healthz ok: primary' });
  await waitFor(
    () => stack.gallery.logs.includes(`redis replica ready at ${stack.replica.url}`),
    { what: 'the app to reach the replica' },
  );
  return stack;
}

test('with a replica, reads survive the primary going down and uploads pause until it is back', { timeout: 30000 }, async () => {
  const stack = await startWithReplica();
  const { replica, gallery } = stack;
  const { port } = stack.primary;

  const first = await upload(gallery.base, IMAGES['image/png'], { filename: 'first.png' });
  assert.equal(first.status, 201);
  const second = await upload(gallery.base, IMAGES['image/jpeg'], { filename: 'second.jpg' });
  assert.equal(second.status, 201);
  const { id, url } = await second.json();
  await waitForReplication(stack.primary, replica);

  const listed = await fetch(`${gallery.base}/api/images`);
  assert.equal(listed.headers.get('x-store'), 'primary');
  const listBefore = await listed.json();
  assert.deepEqual(listBefore.map((image) => image.name), ['second.jpg', 'first.png']);
  assert.equal(listBefore[0].id, id);
  const replicaIds = await replica.client.lRange(IMAGE_LIST_KEY, 0, -1);
  const replicaKeys = await replica.client.dbSize();

  const readers = [1, 2].map(() => readContinuously(gallery.base, ['/', '/api/images', url]));
  await waitFor(() => readers.every((r) => r.seen.length > 0), { what: 'reads to start' });
  await stack.primary.stop();
  await waitFor(async () => (await healthz(gallery.base)).store === 'replica', { what: 'healthz from the replica' });
  await waitFor(
    () => readers.every((r) => r.seen.filter((line) => line.includes(' replica ')).length >= 3),
    { what: 'reads served by the replica' },
  );
  const seen = (await Promise.all(readers.map((r) => r.stop()))).flat();
  assert.deepEqual(seen.filter((line) => !line.startsWith('200 ')), [], 'reads failed while the primary went down');

  assert.deepEqual(await healthz(gallery.base), {
    status: 200,
    store: 'replica',
    body: 'degraded: read-only, the Redis primary is down and its replica answers\n',
  });

  const page = await fetch(`${gallery.base}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('x-store'), 'replica');
  const html = await page.text();
  assert.match(html, /<p class="notice" role="status">Uploads are paused/);
  assert.deepEqual(
    [...html.matchAll(/<a href="\/images\/([0-9a-f]{32})">/g)].map((m) => m[1]),
    listBefore.map((image) => image.id),
  );

  const list = await fetch(`${gallery.base}/api/images`);
  assert.equal(list.status, 200);
  assert.equal(list.headers.get('x-store'), 'replica');
  assert.deepEqual(await list.json(), listBefore);

  const image = await fetch(`${gallery.base}${url}`);
  assert.equal(image.status, 200);
  assert.equal(image.headers.get('x-store'), 'replica');
  assert.equal(image.headers.get('content-type'), 'image/jpeg');
  assert.deepEqual(Buffer.from(await image.arrayBuffer()), IMAGES['image/jpeg']);
  assert.equal((await fetch(`${gallery.base}/images/${'0'.repeat(32)}`)).status, 404);

  const refused = await upload(gallery.base, IMAGES['image/gif']);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '30');
  assert.match((await refused.json()).error, /^Uploads are paused: the image store is read-only.*nothing was saved/);
  const refusedForm = await upload(gallery.base, IMAGES['image/gif'], { accept: 'text/html' });
  assert.equal(refusedForm.status, 503);
  assert.match(await refusedForm.text(), /^Uploads are paused/);
  assert.deepEqual(await replica.client.lRange(IMAGE_LIST_KEY, 0, -1), replicaIds);
  assert.equal(await replica.client.dbSize(), replicaKeys);
  assert.ok(gallery.logs.some((line) => line.startsWith('POST /images read-only: ')));

  // The restarted primary is empty (no persistence in tests) and the replica
  // follows it; what matters is that uploads and reads return to the primary.
  stack.primary = await startRedis(port);
  await waitFor(async () => (await healthz(gallery.base)).body === 'ok: primary\n', { what: 'healthz back to primary' });
  const again = await upload(gallery.base, IMAGES['image/gif']);
  assert.equal(again.status, 201);
  const back = await fetch(`${gallery.base}${(await again.json()).url}`);
  assert.equal(back.headers.get('x-store'), 'primary');
  assert.deepEqual(Buffer.from(await back.arrayBuffer()), IMAGES['image/gif']);
  const pageAgain = await fetch(`${gallery.base}/`);
  assert.equal(pageAgain.headers.get('x-store'), 'primary');
  assert.doesNotMatch(await pageAgain.text(), /Uploads are paused/);
});

test('reads go to the replica when the primary stops answering, after the command timeout', { timeout: 30000 }, async () => {
  const { primary, replica, gallery } = await startWithReplica({ redisTimeoutMs: 200 });
  const { url } = await (await upload(gallery.base, IMAGES['image/png'])).json();
  await waitForReplication(primary, replica);

  primary.freeze();
  try {
    const image = await fetch(`${gallery.base}${url}`);
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('x-store'), 'replica');
    assert.deepEqual(Buffer.from(await image.arrayBuffer()), IMAGES['image/png']);
    assert.equal((await healthz(gallery.base)).store, 'replica');
    const refused = await upload(gallery.base, IMAGES['image/png']);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '30');
  } finally {
    primary.thaw();
  }
  await waitFor(async () => (await healthz(gallery.base)).store === 'primary', { what: 'healthz back to primary' });
});

test('with the replica down as well, reads and uploads answer 503 as without one', { timeout: 30000 }, async () => {
  const primary = await startRedis();
  cleanups.push(() => primary.stop());
  const gallery = await startApp({ redisUrl: primary.url, redisReplicaUrl: `redis://127.0.0.1:${await freePort()}` });
  cleanups.push(() => gallery.close());

  await waitFor(async () => (await healthz(gallery.base)).status === 200, { what: 'healthz 200' });
  assert.equal((await upload(gallery.base, IMAGES['image/png'])).status, 201);

  await primary.stop();
  await waitFor(async () => (await healthz(gallery.base)).status === 503, { what: 'healthz 503' });
  assert.deepEqual(await healthz(gallery.base), { status: 503, store: null, body: 'redis unavailable\n' });
  assert.equal((await fetch(`${gallery.base}/`)).status, 503);
  assert.equal((await fetch(`${gallery.base}/api/images`)).status, 503);
  const refused = await upload(gallery.base, IMAGES['image/png']);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '5');
  assert.match((await refused.json()).error, /^The image store is unavailable; nothing was saved/);
  assert.ok(gallery.logs.some((line) => /^GET \/ unavailable: redis .*; redis replica is not connected$/.test(line)));
});

test('without REDIS_REPLICA_URL a down primary gives 503 and healthz keeps its old body', { timeout: 30000 }, async () => {
  const primary = await startRedis();
  cleanups.push(() => primary.stop());
  const gallery = await startApp({ redisUrl: primary.url });
  cleanups.push(() => gallery.close());

  await waitFor(async () => (await healthz(gallery.base)).status === 200, { what: 'healthz 200' });
  assert.deepEqual(await healthz(gallery.base), { status: 200, store: 'primary', body: 'ok\n' });
  const { url } = await (await upload(gallery.base, IMAGES['image/webp'])).json();

  await primary.stop();
  await waitFor(async () => (await healthz(gallery.base)).status === 503, { what: 'healthz 503' });
  for (const path of ['/', '/api/images', url]) {
    assert.equal((await fetch(`${gallery.base}${path}`)).status, 503, path);
  }
  const refused = await upload(gallery.base, IMAGES['image/webp']);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '5');
  assert.match((await refused.json()).error, /nothing was saved/);
  assert.ok(!gallery.logs.some((line) => line.includes('replica')));
});
