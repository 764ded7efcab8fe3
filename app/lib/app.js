'use strict';

const http = require('node:http');
const os = require('node:os');

const { detectImageType } = require('./image-type');
const { getBoundary, parseMultipart, MultipartError } = require('./multipart');
const { renderGallery, renderUnavailable } = require('./page');
const {
  createStore, isValidId, StoreReadOnlyError, StoreUnavailableError,
} = require('./store');

const DEFAULTS = {
  redisUrl: 'redis://redis:6379',
  maxUploadBytes: 5 * 1024 * 1024,
  multipartOverheadBytes: 64 * 1024,
  redisTimeoutMs: 1000,
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const MAX_NAME_LENGTH = 255;

class BodyTooLargeError extends Error {}
class RequestAbortedError extends Error {}

/**
 * Builds the gallery's HTTP server and its Redis store. Nothing listens until
 * listen() is called; close() stops accepting connections, lets in-flight
 * requests finish, then closes the Redis connection.
 */
function createServer(options = {}) {
  const config = { ...DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) config[key] = value;
  }
  const hostname = config.hostname || os.hostname();
  const log = config.log || ((line) => console.log(line));
  // The body may exceed the image by the multipart envelope (boundaries, part
  // headers, other fields). Nginx in front uses the same sum as its
  // client_max_body_size, so both layers refuse the same requests.
  const maxBodyBytes = config.maxUploadBytes + config.multipartOverheadBytes;

  const store = createStore({
    url: config.redisUrl,
    replicaUrl: config.redisReplicaUrl,
    password: config.redisPassword,
    timeoutMs: config.redisTimeoutMs,
    log,
  });
  let closing = null;
  // Why /healthz fails, logged when it changes: Swarm polls it every few
  // seconds, and a missing password (NOAUTH) shows nowhere else.
  let healthError = null;

  function send(res, status, body, headers = {}) {
    // While draining for shutdown, keep-alive connections must not be reused.
    if (closing) res.setHeader('Connection', 'close');
    res.writeHead(status, { 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  }

  function sendJson(res, status, value, headers = {}) {
    send(res, status, JSON.stringify(value), {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      ...headers,
    });
  }

  function sendText(res, status, text, headers = {}) {
    send(res, status, `${text}\n`, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  }

  function sendError(req, res, status, message, headers = {}) {
    if (prefersJson(req.headers.accept)) sendJson(res, status, { error: message }, headers);
    else sendText(res, status, message, headers);
  }

  // Answering before the body is read: rather than have Node read and discard
  // a body of any size to keep the connection alive, close it after the answer.
  function refuseBody(req, res, status, message, headers = {}) {
    const hasBody = Number(req.headers['content-length']) > 0 || 'transfer-encoding' in req.headers;
    sendError(req, res, status, message, hasBody ? { ...headers, Connection: 'close' } : headers);
  }

  async function showGallery(req, res) {
    try {
      const { images, backend } = await store.list();
      const readOnly = backend === 'replica';
      send(res, 200, renderGallery({ images, hostname, maxUploadBytes: config.maxUploadBytes, readOnly }), {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'X-Store': backend,
      });
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      log(`GET / unavailable: ${err.message}`);
      send(res, 503, renderUnavailable({ hostname }), {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'Retry-After': '5',
      });
    }
  }

  async function upload(req, res, { expectsContinue }) {
    const boundary = getBoundary(req.headers['content-type']);
    if (!boundary) {
      refuseBody(req, res, 400, 'Expected a multipart/form-data body with an "image" file field.');
      return;
    }
    const declaredLength = Number(req.headers['content-length']);
    if (declaredLength > maxBodyBytes) {
      refuseBody(req, res, 413, tooLargeMessage());
      return;
    }
    if (expectsContinue) res.writeContinue();

    let body;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) refuseBody(req, res, 413, tooLargeMessage());
      else if (!(err instanceof RequestAbortedError)) throw err;
      return;
    }

    let parts;
    try {
      parts = parseMultipart(body, boundary);
    } catch (err) {
      if (!(err instanceof MultipartError)) throw err;
      sendError(req, res, 400, `Malformed multipart body: ${err.message}.`);
      return;
    }
    const part = parts.find((p) => p.name === 'image');
    if (!part) {
      sendError(req, res, 400, 'The form has no "image" field.');
      return;
    }
    if (part.data.length === 0) {
      sendError(req, res, 400, 'The uploaded file is empty.');
      return;
    }
    if (part.data.length > config.maxUploadBytes) {
      sendError(req, res, 413, tooLargeMessage());
      return;
    }
    const type = detectImageType(part.data);
    if (!type) {
      sendError(req, res, 415, 'Not a PNG, JPEG, GIF or WebP image.');
      return;
    }

    let image;
    try {
      image = await store.save({ data: part.data, type, name: cleanFilename(part.filename) });
    } catch (err) {
      if (err instanceof StoreReadOnlyError) {
        log(`POST /images read-only: ${err.message}`);
        // A primary down while its replica is up is likely a planned outage
        // (its node's Docker engine being upgraded), longer than a blip.
        sendError(req, res, 503, 'Uploads are paused: the image store is read-only for now; '
          + 'nothing was saved. Try again later.', { 'Retry-After': '30' });
        return;
      }
      if (!(err instanceof StoreUnavailableError)) throw err;
      log(`POST /images unavailable: ${err.message}`);
      sendError(req, res, 503, 'The image store is unavailable; nothing was saved. Try again later.',
        { 'Retry-After': '5' });
      return;
    }

    const url = `/images/${image.id}`;
    if (prefersJson(req.headers.accept)) {
      sendJson(res, 201, {
        id: image.id, type: image.type, size: image.size, name: image.name, url, servedBy: hostname,
      }, { Location: url });
    } else {
      // Post/redirect/get: reloading the gallery must not re-submit the form.
      sendText(res, 303, 'Uploaded. See /', { Location: '/' });
    }
  }

  function tooLargeMessage() {
    return `The image is larger than the limit of ${config.maxUploadBytes} bytes.`;
  }

  async function showImage(req, res, { params: [id] }) {
    if (!isValidId(id)) {
      sendText(res, 400, 'Malformed image id.');
      return;
    }
    let image;
    let backend;
    try {
      ({ image, backend } = await store.get(id));
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      log(`GET /images/${id} unavailable: ${err.message}`);
      sendText(res, 503, 'The image store is unavailable.', { 'Retry-After': '5' });
      return;
    }
    if (!image) {
      sendText(res, 404, 'No such image.', { 'X-Store': backend });
      return;
    }
    // An id always names the same bytes, so caches may keep them forever.
    send(res, 200, image.data, { 'Content-Type': image.type, 'Cache-Control': IMMUTABLE, 'X-Store': backend });
  }

  async function listImages(req, res) {
    try {
      const { images, backend } = await store.list();
      sendJson(res, 200, images.map((image) => ({
        id: image.id,
        type: image.type,
        size: image.size,
        name: image.name,
        created: image.created,
        url: `/images/${image.id}`,
      })), { 'X-Store': backend });
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      log(`GET /api/images unavailable: ${err.message}`);
      sendJson(res, 503, { error: 'The image store is unavailable.' }, { 'Retry-After': '5' });
    }
  }

  // Degraded is still 200: the gallery serves reads, and Swarm must not
  // replace its tasks over an outage of Redis that a new task would share.
  async function health(req, res) {
    let backend;
    try {
      backend = await store.ping();
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      if (err.message !== healthError) log(`GET /healthz unavailable: ${err.message}`);
      healthError = err.message;
      sendText(res, 503, 'redis unavailable', { 'Cache-Control': 'no-store' });
      return;
    }
    healthError = null;
    let body = 'degraded: read-only, the Redis primary is down and its replica answers';
    // Without a replica configured, keep the body that monitors already expect.
    if (backend === 'primary') body = config.redisReplicaUrl ? 'ok: primary' : 'ok';
    sendText(res, 200, body, { 'Cache-Control': 'no-store', 'X-Store': backend });
  }

  const routes = [
    { pattern: /^\/$/, handlers: { GET: showGallery } },
    { pattern: /^\/images$/, handlers: { POST: upload } },
    { pattern: /^\/images\/(.*)$/, handlers: { GET: showImage } },
    { pattern: /^\/api\/images$/, handlers: { GET: listImages } },
    { pattern: /^\/healthz$/, handlers: { GET: health } },
  ];

  async function route(req, res, path, expectsContinue) {
    for (const { pattern, handlers } of routes) {
      const match = pattern.exec(path);
      if (!match) continue;
      // Node's http server already leaves out the body of a HEAD response.
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const handler = handlers[method];
      if (!handler) {
        const allowed = Object.keys(handlers).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]));
        refuseBody(req, res, 405, `Method ${req.method} is not allowed here.`, { Allow: allowed.join(', ') });
        return;
      }
      await handler(req, res, { params: match.slice(1), expectsContinue });
      return;
    }
    refuseBody(req, res, 404, 'Not found.');
  }

  async function handle(req, res, expectsContinue = false) {
    const started = process.hrtime.bigint();
    const path = req.url.split('?')[0];
    res.setHeader('X-Served-By', hostname);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.on('close', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const status = res.writableFinished ? res.statusCode : 'aborted';
      log(`${req.method} ${path} ${status} ${ms.toFixed(1)}ms`);
    });
    try {
      await route(req, res, path, expectsContinue);
    } catch (err) {
      log(`${req.method} ${path} failed: ${err.stack || err}`);
      if (res.headersSent) res.destroy();
      else sendText(res, 500, 'Internal server error.', { Connection: 'close' });
    }
  }

  const server = http.createServer((req, res) => handle(req, res));
  // Answering "Expect: 100-continue" ourselves lets an oversize upload be
  // refused before the client sends its body.
  server.on('checkContinue', (req, res) => handle(req, res, true));

  function listen(port = 0, host) {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address());
      });
    });
  }

  function close() {
    if (!closing) {
      closing = new Promise((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive connections would otherwise hold close() open until
        // they time out (Node 18 does not close them by itself).
        server.closeIdleConnections();
      }).then(() => store.close());
    }
    return closing;
  }

  return { server, store, hostname, listen, close };
}

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let settled = false;
    const settle = (fn, value) => {
      if (settled) return;
      settled = true;
      fn(value);
    };
    req.on('data', (chunk) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        settle(reject, new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => settle(resolve, Buffer.concat(chunks, size)));
    req.on('error', () => settle(reject, new RequestAbortedError()));
    req.on('close', () => settle(reject, new RequestAbortedError()));
  });
}

// Browsers send the bare filename, older ones a full client path; keep the
// last path segment, without control characters, at a sane length.
function cleanFilename(filename) {
  const base = String(filename || '').split(/[\\/]/).pop();
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, MAX_NAME_LENGTH);
  return clean || 'image';
}

/** True when the Accept header ranks application/json above text/html. */
function prefersJson(accept) {
  if (!accept) return false;
  const json = quality(accept, 'application/json');
  return json > 0 && json > quality(accept, 'text/html');
}

// The q-value of the most specific media range in `accept` matching `type`.
function quality(accept, type) {
  const [mainType] = type.split('/');
  let best = { specificity: -1, q: 0 };
  for (const entry of accept.split(',')) {
    const [range, ...params] = entry.split(';').map((s) => s.trim().toLowerCase());
    let specificity = -1;
    if (range === type) specificity = 2;
    else if (range === `${mainType}/*`) specificity = 1;
    else if (range === '*/*') specificity = 0;
    if (specificity <= best.specificity) continue;
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    best = { specificity, q: Number.isFinite(q) ? q : 0 };
  }
  return best.q;
}

module.exports = { createServer, prefersJson, cleanFilename, DEFAULTS };
