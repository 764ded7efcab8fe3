'use strict';

// A deliberately small multipart/form-data (RFC 7578) parser: the whole body is
// already in memory, bounded by the upload limit, so a Buffer scan is enough and
// keeps the service free of runtime dependencies other than the Redis client.

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

class MultipartError extends Error {}

/** The boundary of a multipart/form-data Content-Type header, or null if it is anything else. */
function getBoundary(contentType) {
  if (typeof contentType !== 'string') return null;
  const [mediaType, ...rest] = contentType.split(';');
  if (mediaType.trim().toLowerCase() !== 'multipart/form-data') return null;
  const params = parseParams(rest.join(';'));
  const boundary = params.boundary;
  // RFC 2046: 1 to 70 characters; the length bound also keeps the scans cheap.
  if (!boundary || boundary.length > 70) return null;
  return boundary;
}

/**
 * Splits `body` into its parts: [{ name, filename, contentType, data }].
 * `filename` is undefined for a plain field; `data` is a view into `body`.
 */
function parseMultipart(body, boundary) {
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  const parts = [];

  let pos = indexOfDelimiter(body, delimiter);
  if (pos === -1) throw new MultipartError('multipart body has no boundary delimiter');
  pos += delimiter.length;

  for (;;) {
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts;
    pos = skipTransportPadding(body, pos);
    if (!body.subarray(pos, pos + 2).equals(CRLF)) {
      throw new MultipartError('malformed multipart delimiter line');
    }
    pos += CRLF.length;

    // Every form-data part has at least a Content-Disposition header.
    const headerEnd = body.subarray(pos, pos + 2).equals(CRLF) ? -1 : body.indexOf(HEADER_END, pos);
    if (headerEnd === -1) throw new MultipartError('multipart part without headers');
    const dataStart = headerEnd + HEADER_END.length;

    const dataEnd = body.indexOf(nextDelimiter, dataStart);
    if (dataEnd === -1) throw new MultipartError('multipart body is truncated');

    const headers = parseHeaders(body.toString('utf8', pos, headerEnd));
    parts.push(describePart(headers, body.subarray(dataStart, dataEnd)));
    pos = dataEnd + nextDelimiter.length;
  }
}

// The first delimiter may be preceded by a preamble, but only at a line start.
function indexOfDelimiter(body, delimiter) {
  if (body.subarray(0, delimiter.length).equals(delimiter)) return 0;
  const index = body.indexOf(Buffer.concat([CRLF, delimiter]));
  return index === -1 ? -1 : index + CRLF.length;
}

function skipTransportPadding(body, pos) {
  while (body[pos] === 0x20 || body[pos] === 0x09) pos += 1;
  return pos;
}

function parseHeaders(block) {
  const headers = Object.create(null);
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError('malformed multipart part header');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function describePart(headers, data) {
  const disposition = headers['content-disposition'];
  if (!disposition || disposition.split(';')[0].trim().toLowerCase() !== 'form-data') {
    throw new MultipartError('multipart part without a form-data Content-Disposition');
  }
  const params = parseParams(disposition.slice(disposition.indexOf(';') + 1));
  if (params.name === undefined) throw new MultipartError('multipart part without a name');
  return {
    name: params.name,
    // Browsers (per the HTML standard) and fetch send a double quote in a
    // filename as %22, and do not escape "%" itself.
    filename: params.filename === undefined ? undefined : params.filename.replace(/%22/g, '"'),
    contentType: headers['content-type'],
    data,
  };
}

// Parameters of the form `; key=token` or `; key="quoted \" string"`.
const PARAM = /\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))\s*(?:;|$)/gy;

function parseParams(text) {
  const params = Object.create(null);
  const source = text.replace(/^\s*;?/, '');
  PARAM.lastIndex = 0;
  let match;
  while (PARAM.lastIndex < source.length && (match = PARAM.exec(source)) !== null) {
    const key = match[1].toLowerCase();
    const value = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3].trim();
    if (!(key in params)) params[key] = value;
  }
  return params;
}

module.exports = { getBoundary, parseMultipart, MultipartError };
