'use strict';

const crypto = require('node:crypto');
const { createClient, commandOptions } = require('redis');

// Redis layout:
//   gallery:image:<id>  hash: data (the image bytes, binary), type (MIME type),
//                       name (original filename), size (bytes), created (ms epoch)
//   gallery:images      list of ids, newest first (LPUSH)
// Both are written in one MULTI/EXEC, so a failed upload leaves neither behind.
const IMAGE_KEY_PREFIX = 'gallery:image:';
const IMAGE_LIST_KEY = 'gallery:images';

// Ids are 128 random bits in lowercase hex: unguessable, and easy to validate
// before they reach Redis.
const ID_PATTERN = /^[0-9a-f]{32}$/;

class StoreUnavailableError extends Error {}

function isValidId(id) {
  return ID_PATTERN.test(id);
}

function imageKey(id) {
  return IMAGE_KEY_PREFIX + id;
}

// REDIS_URL may carry a password (redis://user:secret@host); logs must not.
function redactPassword(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable REDIS_URL)';
  }
}

/**
 * Opens a Redis-backed image store. The connection is made, and remade after a
 * Redis restart, in the background; until it is ready every call fails fast
 * with StoreUnavailableError instead of queueing.
 */
function createStore({ url, timeoutMs = 1000, log = () => {} }) {
  const client = createClient({
    url,
    // Queued commands would wait for a reconnect that may never come; failing
    // at once lets the HTTP layer answer 503.
    disableOfflineQueue: true,
  });

  let lastError = null;
  // Without an 'error' listener, node-redis' EventEmitter would throw and take
  // the process down on the first lost connection.
  client.on('error', (err) => {
    if (err.message !== lastError) log(`redis error: ${err.message}`);
    lastError = err.message;
  });
  client.on('ready', () => {
    lastError = null;
    log(`redis ready at ${redactPassword(url)}`);
  });

  // Not awaited: the HTTP server should come up (and report 503) even while
  // Redis is not reachable yet, e.g. when Swarm starts both services together.
  client.connect().catch((err) => log(`redis connect failed: ${err.message}`));

  // Every command is bounded in time: disableOfflineQueue does not cover MULTI
  // in node-redis 4.5, nor a connection that died without the socket noticing.
  async function run(operation) {
    if (!client.isReady) throw new StoreUnavailableError('redis is not connected');
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailableError(`redis did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([operation(client), timeout]);
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(`redis command failed: ${err.message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async ping() {
      return (await run((c) => c.ping())) === 'PONG';
    },

    async save({ data, type, name }) {
      const id = crypto.randomBytes(16).toString('hex');
      const created = Date.now();
      await run((c) => c.multi()
        .hSet(imageKey(id), { data, type, name, size: data.length, created })
        .lPush(IMAGE_LIST_KEY, id)
        .exec());
      return { id, type, name, size: data.length, created };
    },

    /** Image metadata, newest first. */
    async list() {
      return run(async (c) => {
        const ids = await c.lRange(IMAGE_LIST_KEY, 0, -1);
        const rows = await Promise.all(
          ids.map((id) => c.hmGet(imageKey(id), ['type', 'name', 'size', 'created'])),
        );
        return ids
          .map((id, i) => {
            const [type, name, size, created] = rows[i];
            return type === null ? null : { id, type, name, size: Number(size), created: Number(created) };
          })
          .filter(Boolean);
      });
    },

    /** { data, type } of one image, or null if there is none with this id. */
    async get(id) {
      const [data, type] = await run((c) => c.hmGet(
        commandOptions({ returnBuffers: true }),
        imageKey(id),
        ['data', 'type'],
      ));
      if (data === null || type === null) return null;
      return { data, type: type.toString('latin1') };
    },

    async close() {
      if (!client.isOpen) return;
      if (!client.isReady) {
        await client.disconnect();
        return;
      }
      try {
        await run((c) => c.quit());
      } catch (err) {
        // QUIT has already marked the client closed; only the socket is left,
        // and it must not keep the process alive.
        log(`redis quit failed: ${err.message}`);
        client.unref();
      }
    },
  };
}

module.exports = {
  createStore,
  isValidId,
  redactPassword,
  StoreUnavailableError,
  IMAGE_KEY_PREFIX,
  IMAGE_LIST_KEY,
};
