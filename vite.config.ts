import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The browser app: web/ is the root (index.html), public/ holds static files copied as
// they are, dist/ is what `npm start` serves. The kernel worker is bundled from
// `new Worker(new URL('../workers/kernel.worker.ts', import.meta.url), {type: 'module'})`.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Error classes are told apart by `err.name`, which NaosError takes from the class name
// (new.target.name); a minifier that renames classes would turn LedgerIntegrityError into
// `e`. keepNames preserves them in the page and in the worker bundle.
const output = { keepNames: true };

export default defineConfig({
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
