'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { once } = require('node:events');

const {
  freePort, waitFor, startRedis, startApp, spawnServer, upload, cleanupsAfterAll, IMAGES,
} = require('../test-support/harness');
const { IMAGE_LIST_KEY } = require('../lib/store');

const cleanups = cleanupsAfterAll();

async function timed(promise) {
  const started = Date.now();
  const result = await promise;
  return { result, ms: Date.now() - started };
}

test('without Redis every route that needs it answers 503 quickly, then recovers when Redis appears', { timeout: 30000 }, async () => {
  const redisPort = await freePort();
  const gallery = await startApp({ redisUrl: `redis://127.0.0.1:${redisPort}` });
  cleanups.push(() => gallery.close());

  const health = await timed(fetch(`${gallery.base}/healthz`));
  assert.equal(health.result.status, 503);
  assert.equal(await health.result.text(), 'redis unavailable\n');
  assert.ok(health.ms < 1500, `healthz took ${health.ms} ms`);

  const page = await timed(fetch(`${gallery.base}/`));
  assert.equal(page.result.status, 503);
  assert.equal(page.result.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(page.result.headers.get('x-served-by'), 'test-host');
  assert.match(await page.result.text(), /temporarily unavailable/);
  assert.ok(page.ms < 1500, `page took ${page.ms} ms`);

  assert.equal((await fetch(`${gallery.base}/api/images`)).status, 503);
  assert.equal((await fetch(`${gallery.base}/images/${'0'.repeat(32)}`)).status, 503);
  const uploaded = await timed(upload(gallery.base, IMAGES['image/png']));
  assert.equal(uploaded.result.status, 503);
  assert.match((await uploaded.result.json()).error, /nothing was saved/);
  assert.ok(uploaded.ms < 1500, `upload took ${uploaded.ms} ms`);

  const redis = await startRedis(redisPort);
  cleanups.push(() => redis.stop());
  await waitFor(async () => (await fetch(`${gallery.base}/healthz`)).status === 200, { what: 'healthz 200' });
  assert.equal((await upload(gallery.base, IMAGES['image/png'])).status, 201);
  assert.equal(await redis.client.lLen(IMAGE_LIST_KEY), 1);
});

test('when Redis dies the app answers 503, and it reconnects by itself after a restart', { timeout: 30000 }, async () => {
  let redis = await startRedis();
  const { port } = redis;
  cleanups.push(() => redis.stop());
  const gallery = await startApp({ redisUrl: redis.url });
  cleanups.push(() => gallery.close());

  await waitFor(async () => (await fetch(`${gallery.base}/healthz`)).status === 200, { what: 'healthz 200' });
  const before = await (await upload(gallery.base, IMAGES['image/jpeg'])).json();

  await redis.stop();
  await waitFor(async () => (await fetch(`${gallery.base}/healthz`)).status === 503, { what: 'healthz 503' });
  const down = await timed(fetch(`${gallery.base}${before.url}`));
  assert.equal(down.result.status, 503);
  assert.ok(down.ms < 1500, `image request took ${down.ms} ms`);
  assert.equal((await upload(gallery.base, IMAGES['image/gif'])).status, 503);

  // The restarted Redis is empty (no persistence in tests): what matters is
  // that the same client works again without restarting the app.
  redis = await startRedis(port);
  await waitFor(async () => (await fetch(`${gallery.base}/healthz`)).status === 200, { what: 'healthz 200 again' });
  const after = await upload(gallery.base, IMAGES['image/gif']);
  assert.equal(after.status, 201);
  const image = await fetch(`${gallery.base}${(await after.json()).url}`);
  assert.deepEqual(Buffer.from(await image.arrayBuffer()), IMAGES['image/gif']);
  assert.ok(gallery.logs.some((line) => line.startsWith('redis error: ')));
});

/** Runs server.js as Docker would, and resolves once it listens. */
async function startServerProcess(env) {
  const server = spawnServer(env);
  cleanups.push(() => server.kill());
  await waitFor(() => /listening on port \d+/.test(server.output()), { what: 'server.js to listen' });
  return { ...server, port: Number(/listening on port (\d+)/.exec(server.output())[1]) };
}

test('on SIGTERM the server stops accepting, finishes in-flight requests, then exits 0', { timeout: 30000 }, async () => {
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  const server = await startServerProcess({ REDIS_URL: redis.url, HOSTNAME: 'drain-test' });
  const base = `http://127.0.0.1:${server.port}`;
  await waitFor(async () => (await fetch(`${base}/healthz`)).status === 200, { what: 'healthz 200' });

  // An idle keep-alive connection must not hold the shutdown up.
  const agent = new http.Agent({ keepAlive: true });
  await new Promise((resolve, reject) => {
    http.get(`${base}/healthz`, { agent }, (res) => res.resume().on('end', resolve)).on('error', reject);
  });

  const form = new FormData();
  form.append('image', new Blob([IMAGES['image/webp']]), 'in-flight.webp');
  const encoded = new Response(form);
  const body = Buffer.from(await encoded.arrayBuffer());
  const inFlight = http.request({
    host: '127.0.0.1',
    port: server.port,
    method: 'POST',
    path: '/images',
    headers: {
      'Content-Type': encoded.headers.get('content-type'),
      'Content-Length': body.length,
      Accept: 'application/json',
      // The server's "100 Continue" proves it is handling the request.
      Expect: '100-continue',
    },
  });
  const answered = once(inFlight, 'response');
  inFlight.flushHeaders();
  await once(inFlight, 'continue');

  const stopped = Date.now();
  server.child.kill('SIGTERM');
  await waitFor(() => server.output().includes('SIGTERM received'), { what: 'SIGTERM logged' });
  await assert.rejects(fetch(`${base}/healthz`), 'a new connection was accepted while draining');

  inFlight.end(body);
  const [response] = await answered;
  const chunks = [];
  for await (const chunk of response) chunks.push(chunk);
  assert.equal(response.statusCode, 201);
  assert.equal(response.headers.connection, 'close');
  assert.equal(response.headers['x-served-by'], 'drain-test');
  const { id } = JSON.parse(Buffer.concat(chunks));

  const [code, signal] = await server.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null });
  assert.ok(Date.now() - stopped < 4000, 'idle keep-alive connection delayed the exit');
  assert.match(server.output(), /shut down cleanly/);
  assert.deepEqual(await redis.client.lRange(IMAGE_LIST_KEY, 0, -1), [id]);
  agent.destroy();
});

test('SIGINT shuts down cleanly too', { timeout: 15000 }, async () => {
  const server = await startServerProcess({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
  server.child.kill('SIGINT');
  const [code] = await server.exited;
  assert.equal(code, 0);
  assert.match(server.output(), /SIGINT received[\s\S]*shut down cleanly/);
});

test('server.js reads from REDIS_REPLICA_URL while REDIS_URL is down', { timeout: 15000 }, async () => {
  // A replica whose primary never came up still answers, with no data.
  const replica = await startRedis(undefined, { replicaOf: await freePort() });
  cleanups.push(() => replica.stop());
  const server = await startServerProcess({
    REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    REDIS_REPLICA_URL: replica.url,
  });
  const base = `http://127.0.0.1:${server.port}`;
  await waitFor(async () => (await fetch(`${base}/healthz`)).status === 200, { what: 'healthz 200' });
  const health = await fetch(`${base}/healthz`);
  assert.equal(health.headers.get('x-store'), 'replica');
  assert.match(await health.text(), /^degraded: read-only/);
  const list = await fetch(`${base}/api/images`);
  assert.equal(list.status, 200);
  assert.deepEqual(await list.json(), []);
  assert.match(server.output(), new RegExp(`redis replica ready at ${replica.url}`));
  server.child.kill('SIGTERM');
  assert.deepEqual(await server.exited, [0, null]);
});
