'use strict';

// The type is decided by the first bytes only: a client's filename and declared
// Content-Type are attacker-controlled, and the stored type is later served as
// Content-Type to every visitor.
const SIGNATURES = [
  { type: 'image/png', matches: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { type: 'image/jpeg', matches: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  { type: 'image/gif', matches: (b) => ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a') },
  { type: 'image/webp', matches: (b) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP') },
];

function startsWith(buffer, bytes) {
  return buffer.length >= bytes.length && bytes.every((byte, i) => buffer[i] === byte);
}

function ascii(buffer, offset, text) {
  return buffer.length >= offset + text.length &&
    buffer.toString('latin1', offset, offset + text.length) === text;
}

/** Returns the image MIME type of `buffer`, or null when it is not a supported image. */
function detectImageType(buffer) {
  const signature = SIGNATURES.find((s) => s.matches(buffer));
  return signature ? signature.type : null;
}

const SUPPORTED_TYPES = SIGNATURES.map((s) => s.type);

module.exports = { detectImageType, SUPPORTED_TYPES };
