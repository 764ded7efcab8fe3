'use strict';

const { SUPPORTED_TYPES } = require('./image-type');

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values alike. */
function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function formatBytes(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}

const STYLE = `
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
  form { margin: 1rem 0 2rem; display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
  .hint { color: #666; font-size: .9rem; }
  .notice { background: #fff3cd; border-radius: 4px; padding: .5rem 1rem; }
  .grid { list-style: none; padding: 0; display: grid; gap: 8px;
          grid-template-columns: repeat(auto-fill, 160px); }
  .grid a { display: block; width: 160px; height: 160px; border-radius: 4px; overflow: hidden; background: #eee; }
  .thumb { display: block; width: 160px; height: 160px; object-fit: cover; }
  footer { margin-top: 2rem; color: #666; font-size: .9rem; }
`;

function thumbnail(image) {
  const id = escapeHtml(image.id);
  return `<li><a href="/images/${id}"><img class="thumb" data-id="${id}" src="/images/${id}" ` +
    `loading="lazy" alt="${escapeHtml(image.name)}" width="160" height="160"></a></li>`;
}

// readOnly: the page comes from the Redis replica, so uploads will be refused
// until the primary is back; better said before the user picks a file.
function renderGallery({ images, hostname, maxUploadBytes, readOnly = false }) {
  const notice = readOnly
    ? '<p class="notice" role="status">Uploads are paused for now: the gallery is read-only.</p>\n'
    : '';
  const grid = images.length > 0
    ? `<ul class="grid">\n${images.map(thumbnail).join('\n')}\n</ul>`
    : '<p>No images yet: upload the first one.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Image gallery</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Image gallery</h1>
${notice}<form method="post" action="/images" enctype="multipart/form-data">
<input type="file" name="image" accept="${SUPPORTED_TYPES.join(',')}" required>
<button type="submit">Upload</button>
<span class="hint">PNG, JPEG, GIF or WebP, up to ${formatBytes(maxUploadBytes)}</span>
</form>
${grid}
<footer><p id="served-by">Served by ${escapeHtml(hostname)}</p></footer>
</body>
</html>
`;
}

function renderUnavailable({ hostname }) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Image gallery: unavailable</title></head>
<body>
<h1>Image gallery is temporarily unavailable</h1>
<p>The image store cannot be reached. Please try again in a moment.</p>
<footer><p id="served-by">Served by ${escapeHtml(hostname)}</p></footer>
</body>
</html>
`;
}

module.exports = { escapeHtml, formatBytes, renderGallery, renderUnavailable };
