'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { createClient } = require('redis');

const {
  waitFor, startRedis, startReplica, waitForReplication, startApp, spawnServer, upload, healthz, cleanupsAfterAll, IMAGES,
} = require('../test-support/harness');
const { IMAGE_LIST_KEY } = require('../lib/store');

// Quotes, a backslash, a dollar and a space: what a hand-made secret may hold.
const PASSWORD = 'n0t "so" \\secret$ pass';

const cleanups = cleanupsAfterAll();

/** A password-protected primary and its replica, which authenticates to it. */
async function startProtected() {
  const primary = await startRedis(undefined, { password: PASSWORD });
  cleanups.push(() => primary.stop());
  const replica = await startReplica(primary, { password: PASSWORD });
  cleanups.push(() => replica.stop());
  return { primary, replica };
}

/** Resolves to the error a client without a password gets from `url`. */
async function anonymousPing(url) {
  const client = createClient({ url, socket: { reconnectStrategy: false } });
  client.on('error', () => {});
  await client.connect();
  try {
    return await client.ping().then(() => 'PONG', (err) => err.message);
  } finally {
    await client.disconnect();
  }
}

async function writeSecret(content) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gallery-secret-'));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'redis_password');
  await fs.writeFile(file, content, { mode: 0o400 });
  return file;
}

test('with the password the app uses the primary, and the replica once the primary is down', { timeout: 30000 }, async () => {
  const { primary, replica } = await startProtected();
  assert.match(await anonymousPing(primary.url), /^NOAUTH/);
  assert.match(await anonymousPing(replica.url), /^NOAUTH/);

  const gallery = await startApp({ redisUrl: primary.url, redisReplicaUrl: replica.url, redisPassword: PASSWORD });
  cleanups.push(() => gallery.close());
  await waitFor(async () => (await healthz(gallery.base)).body === 'ok: primary\n', { what: 'healthz ok: primary' });
  await waitFor(
    () => gallery.logs.includes(`redis replica ready at ${replica.url}`),
    { what: 'the app to reach the replica' },
  );

  const uploaded = await upload(gallery.base, IMAGES['image/png']);
  assert.equal(uploaded.status, 201);
  const { id, url } = await uploaded.json();
  // The replica authenticated to the primary: it has the upload.
  await waitForReplication(primary, replica);
  assert.deepEqual(await replica.client.lRange(IMAGE_LIST_KEY, 0, -1), [id]);

  await primary.stop();
  await waitFor(async () => (await healthz(gallery.base)).store === 'replica', { what: 'healthz from the replica' });
  const image = await fetch(`${gallery.base}${url}`);
  assert.equal(image.status, 200);
  assert.equal(image.headers.get('x-store'), 'replica');
  assert.deepEqual(Buffer.from(await image.arrayBuffer()), IMAGES['image/png']);
  assert.ok(!gallery.logs.some((line) => /NOAUTH|WRONGPASS/.test(line)), gallery.logs.join('\n'));
});

test('a wrong password makes /healthz 503, saves nothing, and the log says WRONGPASS', { timeout: 30000 }, async () => {
  const { primary, replica } = await startProtected();
  const gallery = await startApp({ redisUrl: primary.url, redisReplicaUrl: replica.url, redisPassword: 'not-the-password' });
  cleanups.push(() => gallery.close());

  await waitFor(
    () => ['redis', 'redis replica'].every((name) => gallery.logs.some((line) => line.startsWith(`${name} error: WRONGPASS`))),
    { what: 'WRONGPASS from the primary and the replica' },
  );
  assert.deepEqual(await healthz(gallery.base), { status: 503, store: null, body: 'redis unavailable\n' });
  const refused = await upload(gallery.base, IMAGES['image/png']);
  assert.equal(refused.status, 503);
  assert.match((await refused.json()).error, /nothing was saved/);
  assert.equal(await primary.client.dbSize(), 0);
  assert.ok(!gallery.logs.some((line) => line.includes('not-the-password')), 'the password was logged');
});

test('without a password Redis answers NOAUTH: /healthz 503, and the log says why once', { timeout: 30000 }, async () => {
  const { primary, replica } = await startProtected();
  const gallery = await startApp({ redisUrl: primary.url, redisReplicaUrl: replica.url });
  cleanups.push(() => gallery.close());

  // The connections come up (AUTH is never sent), and every command is refused.
  await waitFor(
    () => gallery.logs.includes(`redis ready at ${primary.url}`) && gallery.logs.includes(`redis replica ready at ${replica.url}`),
    { what: 'the app to connect' },
  );
  assert.deepEqual(await healthz(gallery.base), { status: 503, store: null, body: 'redis unavailable\n' });
  assert.equal((await healthz(gallery.base)).status, 503);
  const why = gallery.logs.filter((line) => line.startsWith('GET /healthz unavailable: '));
  assert.equal(why.length, 1, gallery.logs.join('\n'));
  assert.match(why[0], /redis command failed: NOAUTH .*; redis replica command failed: NOAUTH /);
  assert.equal((await fetch(`${gallery.base}/api/images`)).status, 503);
});

test('server.js reads the password from REDIS_PASSWORD_FILE, trailing newline and all', { timeout: 15000 }, async () => {
  const { primary, replica } = await startProtected();
  const server = spawnServer({
    REDIS_URL: primary.url,
    REDIS_REPLICA_URL: replica.url,
    REDIS_PASSWORD_FILE: await writeSecret(`${PASSWORD}\n`),
  });
  cleanups.push(() => server.kill());
  await waitFor(() => /listening on port \d+/.test(server.output()), { what: 'server.js to listen' });
  const base = `http://127.0.0.1:${/listening on port (\d+)/.exec(server.output())[1]}`;
  await waitFor(async () => (await healthz(base)).body === 'ok: primary\n', { what: 'healthz ok: primary' });
  assert.equal((await upload(base, IMAGES['image/gif'])).status, 201);
  await waitForReplication(primary, replica);
  assert.equal(await replica.client.lLen(IMAGE_LIST_KEY), 1);
  server.child.kill('SIGTERM');
  assert.deepEqual(await server.exited, [0, null]);
  assert.ok(!server.output().includes(PASSWORD), 'the password was logged');
});

for (const [what, file] of [
  ['a missing file', () => path.join(os.tmpdir(), 'gallery-no-such-secret')],
  ['an empty file', () => writeSecret('\n')],
]) {
  test(`server.js refuses to start on ${what} in REDIS_PASSWORD_FILE`, { timeout: 15000 }, async () => {
    const secret = await file();
    const server = spawnServer({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_PASSWORD_FILE: secret });
    cleanups.push(() => server.kill());
    assert.deepEqual(await server.exited, [1, null]);
    assert.match(server.output(), new RegExp(`^startup failed: Error: REDIS_PASSWORD_FILE: .*${secret}`, 'm'));
  });
}
