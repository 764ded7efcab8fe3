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
// Writes go to the primary only: while a replica still answers reads, the
// HTTP layer can say that uploads are paused rather than that all is down.
class StoreReadOnlyError extends StoreUnavailableError {}

function isValidId(id) {
  return ID_PATTERN.test(id);
}

function imageKey(id) {
  return IMAGE_KEY_PREFIX + id;
}

// REDIS_URL and REDIS_REPLICA_URL may carry a password (redis://user:secret@host);
// logs must not.
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
 * Connects one Redis client in the background, and again after each Redis
 * restart; until it is ready every command fails fast with
 * StoreUnavailableError instead of queueing. `name` tells the primary's and the
 * replica's lines apart in logs and errors.
 */
function openBackend({ name, url, password, timeoutMs, log }) {
  const client = createClient({
    url,
    // Sent with AUTH on every (re)connection; a password in the URL wins.
    password,
    // Queued commands would wait for a reconnect that may never come; failing
    // at once lets the store try the replica, or the HTTP layer answer 503.
    disableOfflineQueue: true,
  });

  let lastError = null;
  // Without an 'error' listener, node-redis' EventEmitter would throw and take
  // the process down on the first lost connection.
  client.on('error', (err) => {
    if (err.message !== lastError) log(`${name} error: ${err.message}`);
    lastError = err.message;
  });
  client.on('ready', () => {
    lastError = null;
    log(`${name} ready at ${redactPassword(url)}`);
  });

  // Not awaited: the HTTP server should come up (and report 503) even while
  // Redis is not reachable yet, e.g. when Swarm starts both services together.
  client.connect().catch((err) => log(`${name} connect failed: ${err.message}`));

  // Every command is bounded in time: disableOfflineQueue does not cover MULTI
  // in node-redis 4.5, nor a connection that died without the socket noticing.
  async function run(operation) {
    if (!client.isReady) throw new StoreUnavailableError(`${name} is not connected`);
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailableError(`${name} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([operation(client), timeout]);
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(`${name} command failed: ${err.message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    run,

    get isReady() {
      return client.isReady;
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
        log(`${name} quit failed: ${err.message}`);
        client.unref();
      }
    },
  };
}

/**
 * Opens a Redis-backed image store on a primary and, given `replicaUrl`, on a
 * read replica of it; `password`, if given, authenticates to both. Reads
 * answer from the primary, and from the replica while the primary is down or
 * failing, so the gallery stays viewable through a Redis outage; they say
 * which `backend` answered. Writes need the primary.
 */
function createStore({ url, replicaUrl, password, timeoutMs = 1000, log = () => {} }) {
  const primary = openBackend({ name: 'redis', url, password, timeoutMs, log });
  const replica = replicaUrl
    ? openBackend({ name: 'redis replica', url: replicaUrl, password, timeoutMs, log })
    : null;

  // The replica may lack the last writes the primary took before going down:
  // stale reads beat failed ones while the primary is away.
  async function read(operation) {
    try {
      return { value: await primary.run(operation), backend: 'primary' };
    } catch (err) {
      if (!replica) throw err;
      try {
        return { value: await replica.run(operation), backend: 'replica' };
      } catch (replicaErr) {
        throw new StoreUnavailableError(`${err.message}; ${replicaErr.message}`, { cause: replicaErr });
      }
    }
  }

  return {
    /** 'primary' or 'replica': which one answered PING. */
    async ping() {
      return (await read((c) => c.ping())).backend;
    },

    async save({ data, type, name }) {
      const id = crypto.randomBytes(16).toString('hex');
      const created = Date.now();
      try {
        await primary.run((c) => c.multi()
          .hSet(imageKey(id), { data, type, name, size: data.length, created })
          .lPush(IMAGE_LIST_KEY, id)
          .exec());
      } catch (err) {
        if (replica?.isReady) throw new StoreReadOnlyError(`read-only, ${err.message}`, { cause: err });
        throw err;
      }
      return { id, type, name, size: data.length, created };
    },

    /** { images, backend }: image metadata, newest first. */
    async list() {
      const { value: images, backend } = await read(async (c) => {
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
      return { images, backend };
    },

    /** { image, backend }: image is { data, type }, or null if there is none with this id. */
    async get(id) {
      const { value: [data, type], backend } = await read((c) => c.hmGet(
        commandOptions({ returnBuffers: true }),
        imageKey(id),
        ['data', 'type'],
      ));
      const image = data === null || type === null ? null : { data, type: type.toString('latin1') };
      return { image, backend };
    },

    async close() {
      await Promise.all([primary.close(), replica?.close()]);
    },
  };
}

module.exports = {
  createStore,
  isValidId,
  redactPassword,
  StoreUnavailableError,
  StoreReadOnlyError,
  IMAGE_KEY_PREFIX,
  IMAGE_LIST_KEY,
};
