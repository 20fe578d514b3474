// Draws the app icons (public/icons/*.png) from code: a federation — one node in the
// middle linked to six around it — on the Naos blue. No network, no image tools: a tiny
// rasteriser and PNG encoder (node:zlib). The PNGs are committed; run this again after
// changing the drawing: `node scripts/make-icons.js`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');

const BACKGROUND = [0x0d, 0x2a, 0x5c];
const LINK = [0x8f, 0xb8, 0xff];
const NODE = [0xff, 0xff, 0xff];
const CENTRE = [0x58, 0xd6, 0x8d];

/** Coverage (0..1) of a pixel by a disc, with a one-pixel soft edge. */
const disc = (x, y, cx, cy, r) => Math.max(0, Math.min(1, r - Math.hypot(x - cx, y - cy) + 0.5));

/** Coverage of a pixel by a segment of half-width w. */
function segment(x, y, ax, ay, bx, by, w) {
  const [dx, dy] = [bx - ax, by - ay];
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return Math.max(0, Math.min(1, w - Math.hypot(x - (ax + t * dx), y - (ay + t * dy)) + 0.5));
}

/** RGBA pixels of the icon at `size`; `safe` shrinks the drawing into the maskable safe zone. */
function draw(size, { safe = false, rounded = true } = {}) {
  const pixels = new Uint8Array(size * size * 4);
  const c = size / 2;
  const scale = safe ? 0.62 : 0.8;
  const ring = (size / 2) * scale * 0.72;
  const around = Array.from({ length: 6 }, (_, i) => {
    const a = (i / 6) * 2 * Math.PI - Math.PI / 2;
    return [c + Math.cos(a) * ring, c + Math.sin(a) * ring];
  });
  const corner = size * 0.18;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const [px, py] = [x + 0.5, y + 0.5];
      // Rounded square for the plain icon, full bleed for the maskable one.
      let alpha = 1;
      if (rounded && !safe) {
        const qx = Math.max(corner - px, 0, px - (size - corner));
        const qy = Math.max(corner - py, 0, py - (size - corner));
        alpha = Math.max(0, Math.min(1, corner - Math.hypot(qx, qy) + 0.5));
      }
      let rgb = BACKGROUND;
      const blend = (colour, k) => {
        rgb = rgb.map((v, i) => v + (colour[i] - v) * k);
      };
      for (const [nx, ny] of around) blend(LINK, segment(px, py, c, c, nx, ny, size * 0.018));
      for (let i = 0; i < 6; i++) {
        const [ax, ay] = around[i];
        const [bx, by] = around[(i + 1) % 6];
        blend(LINK, segment(px, py, ax, ay, bx, by, size * 0.01) * 0.6);
      }
      for (const [nx, ny] of around) blend(NODE, disc(px, py, nx, ny, size * 0.06 * scale * 1.25));
      blend(CENTRE, disc(px, py, c, c, size * 0.1 * scale * 1.25));
      const o = (y * size + x) * 4;
      pixels.set([Math.round(rgb[0]), Math.round(rgb[1]), Math.round(rgb[2]), Math.round(alpha * 255)], o);
    }
  }
  return pixels;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function png(size, pixels) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    Buffer.from(pixels.buffer, y * size * 4, size * 4).copy(raw, y * (size * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

mkdirSync(OUT, { recursive: true });
const icons = [
  ['icon-192.png', 192, {}],
  ['icon-512.png', 512, {}],
  ['maskable-512.png', 512, { safe: true }],
  ['apple-touch-icon-180.png', 180, { rounded: false }],
];
for (const [name, size, options] of icons) {
  writeFileSync(join(OUT, name), png(size, draw(size, options)));
  console.log(`public/icons/${name}`);
}
