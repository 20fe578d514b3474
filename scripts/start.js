// `npm start`: builds the browser app if dist/ is missing or older than its sources, then
// serves dist/ on 127.0.0.1 (port from PORT, default 4173) until SIGINT/SIGTERM.
//
// A plain Node script on purpose: later issues add the libp2p relay, the always-on Node
// kernel and /.well-known/peers.json to this same process (as middlewares on the server
// below and services started next to it).
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_PORT = 4173;
export const HOST = '127.0.0.1';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const CONFIG = join(ROOT, 'vite.config.ts');
/** Everything the bundle is built from. A change to any of these (or a deletion inside them) means rebuild. */
const SOURCES = ['web', 'workers', 'src', 'adapters', 'public', 'vite.config.ts', 'package-lock.json'];
/** Written after a successful build; dotfiles are not served. */
const STAMP = join(DIST, '.naos-build.json');

function parsePort(text) {
  if (text === undefined || text === '') return DEFAULT_PORT;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    console.error(`PORT must be an integer from 1 to 65535, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return port;
}

/** Newest modification time (ms) of a file or of anything below a directory, directories included. */
async function newestMtime(path) {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if (error.code === 'ENOENT') return 0;
    throw error;
  }
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const name of await readdir(path)) newest = Math.max(newest, await newestMtime(join(path, name)));
  return newest;
}

/** Why a build is needed, or undefined if dist/ is up to date. */
async function staleReason() {
  let builtAt;
  try {
    builtAt = JSON.parse(await readFile(STAMP, 'utf8')).startedAt;
  } catch {
    return 'no finished build in dist/';
  }
  if (typeof builtAt !== 'number') return 'the build stamp in dist/ is unreadable';
  for (const source of SOURCES) {
    if ((await newestMtime(join(ROOT, source))) > builtAt) return `${source} changed since the last build`;
  }
  return undefined;
}

async function buildIfNeeded(vite) {
  const reason = await staleReason();
  if (!reason) {
    console.log('dist/ is up to date');
    return;
  }
  console.log(`building (${reason}) …`);
  const startedAt = Date.now();
  await vite.build({ configFile: CONFIG, logLevel: 'warn' });
  await writeFile(STAMP, JSON.stringify({ startedAt }) + '\n');
  console.log(`built in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
}

async function main() {
  const port = parsePort(process.env.PORT);
  const vite = await import('vite');
  await buildIfNeeded(vite);
  // Vite's preview server serves dist/ with sirv (correct types for .js, .wasm, .svg, …)
  // and SPA fallback; strictPort so it never silently moves to another port.
  const server = await vite.preview({
    configFile: CONFIG,
    logLevel: 'warn',
    preview: { host: HOST, port, strictPort: true, open: false },
  });
  const address = server.httpServer.address();
  const url = `http://${HOST}:${typeof address === 'object' && address ? address.port : port}/`;
  console.log(`Naos is served at ${url}`);

  let closing = false;
  const shutdown = (signal) => {
    if (closing) process.exit(1); // a second signal: stop waiting
    closing = true;
    console.log(`${signal}: shutting down`);
    setTimeout(() => process.exit(1), 5_000).unref();
    server.close().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error) => {
  if (error?.code === 'EADDRINUSE')
    console.error(`Port ${process.env.PORT ?? DEFAULT_PORT} on ${HOST} is in use; set PORT to another port.`);
  else console.error(error);
  process.exit(1);
});
