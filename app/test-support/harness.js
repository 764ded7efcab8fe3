'use strict';

// Test helpers: a real redis-server per test file, the app on an ephemeral
// port, and tiny but valid images. Kept outside test/ so that `node --test`
// does not run this file as a test of its own.

const { spawn } = require('node:child_process');
const { after } = require('node:test');
const fs = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { once } = require('node:events');
const { setTimeout: sleep } = require('node:timers/promises');
const { createClient } = require('redis');

const { createServer } = require('../lib/app');

const SERVER = path.join(__dirname, '..', 'server.js');

// redis-server cannot pick a free port itself: ask the kernel for one, release
// it, and hand it over. The gap is tiny, and a collision fails loudly.
async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

async function waitFor(check, { timeoutMs = 10000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet: keep polling until the deadline
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Starts redis-server on `port` (a free one by default) and a client to
 * inspect it; with `replicaOf` (a port), as a read-only replica of the
 * redis-server on that port; with `password`, requiring it from clients and,
 * as a replica, giving it to its primary.
 */
async function startRedis(port, { replicaOf, password } = {}) {
  const redisPort = port || await freePort();
  // A replica writes what it syncs to dump.rdb in its --dir, which would
  // otherwise be the directory the tests run from.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gallery-redis-'));
  const removeDir = () => fs.rm(dir, { recursive: true, force: true });
  const proc = spawn('redis-server', [
    '--port', String(redisPort),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--appendonly', 'no',
    // Redis waits 5 s by default for more replicas to share a full sync.
    '--repl-diskless-sync-delay', '0',
    ...(replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []),
    ...(password ? ['--requirepass', password, '--masterauth', password] : []),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (chunk) => { output += chunk; });
  proc.stderr.on('data', (chunk) => { output += chunk; });
  const exited = once(proc, 'exit');

  const url = `redis://127.0.0.1:${redisPort}`;
  const client = createClient({ url, password, socket: { reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await Promise.race([
      waitFor(async () => {
        if (!client.isOpen) await client.connect();
        return (await client.ping()) === 'PONG';
      }, { what: `redis-server on port ${redisPort}` }),
      exited.then(([code]) => {
        throw new Error(`redis-server exited with ${code}:\n${output}`);
      }),
    ]);
  } catch (err) {
    proc.kill('SIGKILL');
    await exited;
    await removeDir();
    throw err;
  }

  return {
    port: redisPort,
    url,
    client,
    // A frozen server keeps its connections open but answers nothing, as one
    // behind a network partition does.
    freeze: () => proc.kill('SIGSTOP'),
    thaw: () => proc.kill('SIGCONT'),
    async stop() {
      if (client.isOpen) await client.disconnect();
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      await removeDir();
    },
  };
}

function replicationOffset(info, field) {
  return Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(info)?.[1]);
}

/**
 * Resolves once `replica` holds every write `primary` has taken so far. After
 * a full sync the link is up before the primary streams writes to the replica
 * (it waits for the replica's first ACK, up to a second later), and WAIT
 * counts only the writes of the client that sends it: offsets tell.
 */
async function waitForReplication(primary, replica) {
  const target = replicationOffset(await primary.client.info('replication'), 'master_repl_offset');
  await waitFor(async () => {
    const info = await replica.client.info('replication');
    return /^master_link_status:up\r?$/m.test(info) && replicationOffset(info, 'slave_repl_offset') >= target;
  }, { what: `replica on port ${replica.port} to catch up with port ${primary.port}` });
}

/** Starts a replica of `primary` and resolves once it has synced with it. */
async function startReplica(primary, { password } = {}) {
  const replica = await startRedis(undefined, { replicaOf: primary.port, password });
  try {
    await waitForReplication(primary, replica);
  } catch (err) {
    await replica.stop();
    throw err;
  }
  return replica;
}

/**
 * Runs server.js as Docker would, on an ephemeral port. `output()` is what it
 * printed so far, `exited` resolves to [code, signal], and `kill()` ends it if
 * it still runs.
 */
function spawnServer(env) {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  return {
    child,
    exited: once(child, 'exit'),
    output: () => output,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Starts the app on an ephemeral port; log lines are collected, not printed. */
async function startApp(options) {
  const logs = [];
  const app = createServer({ hostname: 'test-host', log: (line) => logs.push(line), ...options });
  const { port } = await app.listen(0, '127.0.0.1');
  return { app, logs, base: `http://127.0.0.1:${port}`, port, close: () => app.close() };
}

/** Uploads `bytes` as the "image" field; JSON is asked for unless `accept` says otherwise. */
function upload(base, bytes, { filename = 'upload.bin', type = 'application/octet-stream', accept = 'application/json', field = 'image' } = {}) {
  const form = new FormData();
  form.append(field, new Blob([bytes], { type }), filename);
  return fetch(`${base}/images`, {
    method: 'POST',
    body: form,
    headers: accept ? { Accept: accept } : {},
    redirect: 'manual',
  });
}

// Real, decodable 1x1 images of each supported type (made with Pillow).
const IMAGES = {
  'image/png': Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGM4IWcDAALUASNyYth2AAAAAElFTkSuQmCC',
    'base64',
  ),
  'image/jpeg': Buffer.from(
    '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8X'
    + 'GBYUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wAAR'
    + 'CAABAAEDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEG'
    + 'E1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWG'
    + 'h4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEB'
    + 'AQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYk'
    + 'NOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0'
    + 'tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDwqiiivmj+3T//2Q==',
    'base64',
  ),
  'image/gif': Buffer.from('R0lGODdhAQABAIEAAMgePAAAAAAAAAAAACwAAAAAAQABAAAIBAABBAQAOw==', 'base64'),
  'image/webp': Buffer.from('UklGRh4AAABXRUJQVlA4TBEAAAAvAAAAAAdQjyKXp/+BiOh/AAA=', 'base64'),
};

/** What /healthz answers: status, the store that answered (X-Store) and the body. */
async function healthz(base) {
  const response = await fetch(`${base}/healthz`);
  return { status: response.status, store: response.headers.get('x-store'), body: await response.text() };
}

/**
 * A list of cleanups run, last first, after the file's tests: everything a
 * test starts is stopped even when it fails half-way.
 */
function cleanupsAfterAll() {
  const cleanups = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  return cleanups;
}

module.exports = {
  freePort, waitFor, startRedis, startReplica, waitForReplication, startApp, spawnServer, upload, healthz,
  cleanupsAfterAll, IMAGES,
};
