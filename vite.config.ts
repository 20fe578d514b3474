import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

// The browser app: web/ is the root (index.html), public/ holds static files copied as
// they are, dist/ is what `npm start` serves. The kernel worker is bundled from
// `new Worker(new URL('../workers/kernel.worker.ts', import.meta.url), {type: 'module'})`.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Error classes are told apart by `err.name`, which NaosError takes from the class name
// (new.target.name); a minifier that renames classes would turn LedgerIntegrityError into
// `e`. keepNames preserves them in the page and in the worker bundle.
const output = { keepNames: true };

// Installable offline PWA (F33, docs/BROWSER.md): Workbox generateSW precaches the whole
// build — page, kernel worker bundles, any wasm, icons — so after one visit the app boots
// with the server gone. Updates: the new service worker skips waiting and claims open
// tabs but never reloads them; every load after it activated runs the new build.
const pwa = VitePWA({
  strategies: 'generateSW',
  registerType: 'autoUpdate',
  // web/main.ts registers /sw.js itself (no auto-reload of running kernels).
  injectRegister: false,
  // The glob below already lists every file of the build, icons included.
  includeManifestIcons: false,
  manifest: {
    id: '/',
    name: 'Naos — every browser tab is a kernel',
    short_name: 'Naos',
    description: 'A peer-to-peer federation of sandboxed agents with verifiable Merkle ledgers, running in your browser.',
    start_url: '/',
    scope: '/',
    display: 'standalone',
    background_color: '#f6f8fa',
    theme_color: '#0d2a5c',
    icons: [
      { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
      { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
      { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    ],
  },
  workbox: {
    globPatterns: ['**/*.{js,css,html,svg,png,wasm,webmanifest}'],
    // The kernel and sandbox bundles (with inlined or separate wasm) are large; all of them must be cached.
    maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
    navigateFallback: 'index.html',
    skipWaiting: true,
    clientsClaim: true,
    cleanupOutdatedCaches: true,
    sourcemap: false,
  },
});

export default defineConfig({
  plugins: [pwa],
  root: here('./web'),
  publicDir: here('./public'),
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rolldownOptions: { output },
  },
  worker: { format: 'es', rolldownOptions: { output } },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1', port: 4173 },
});
