'use strict';

const fs = require('node:fs');

const { createServer, DEFAULTS } = require('./lib/app');

function integerFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  }
  return value;
}

// The Redis password comes from a file, a Docker secret in the stack: in the
// environment, `docker inspect` would show it. Unset, Redis needs none.
function passwordFromFile(name) {
  const file = process.env[name];
  if (!file) return undefined;
  let content;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${name}: cannot read the Redis password: ${err.message}`);
  }
  // Trailing newlines are dropped, as the shell's $(...) drops them where the
  // stack hands the same file to redis-server and redis-cli.
  const password = content.replace(/\n+$/, '');
  if (password === '') throw new Error(`${name}: ${file} holds no password`);
  return password;
}

function log(line) {
  console.log(line);
}

async function main() {
  const port = integerFromEnv('PORT', 3000);
  const app = createServer({
    redisUrl: process.env.REDIS_URL || DEFAULTS.redisUrl,
    // Optional: a read replica of REDIS_URL (redis-server --replicaof). While
    // the primary is down, reads come from it and uploads answer 503; unset,
    // the primary is the only store.
    redisReplicaUrl: process.env.REDIS_REPLICA_URL || undefined,
    // For the primary and the replica alike.
    redisPassword: passwordFromFile('REDIS_PASSWORD_FILE'),
    // Docker sets HOSTNAME to the container's hostname, which tells replicas
    // apart; createServer falls back to os.hostname().
    hostname: process.env.HOSTNAME,
    maxUploadBytes: integerFromEnv('MAX_UPLOAD_BYTES', DEFAULTS.maxUploadBytes),
    // Nginx's client_max_body_size must equal MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES.
    multipartOverheadBytes: integerFromEnv('MULTIPART_OVERHEAD_BYTES', DEFAULTS.multipartOverheadBytes),
    log,
  });

  // Swarm stops a task with SIGTERM and waits stop_grace_period before SIGKILL:
  // draining in-flight requests first is what lets a rolling update lose none.
  // A second signal gives up on the drain.
  let stopping = false;
  const stop = (signal) => {
    if (stopping) {
      log(`${signal} received again, exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    log(`${signal} received, finishing in-flight requests`);
    app.close().then(
      () => {
        log('shut down cleanly');
        process.exit(0);
      },
      (err) => {
        log(`shutdown failed: ${err.stack || err}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  const address = await app.listen(port);
  log(`image gallery listening on port ${address.port} as ${app.hostname}`);
}

main().catch((err) => {
  log(`startup failed: ${err.stack || err}`);
  process.exit(1);
});
