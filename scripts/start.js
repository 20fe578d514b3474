// `npm start`: builds the browser app if dist/ is missing or older than its sources, then
// serves on 127.0.0.1, until SIGINT/SIGTERM:
//   - the app (dist/) and /.well-known/peers.json        PORT        (default 4173)
//   - the libp2p relay/bootstrap node (WebSockets)         RELAY_PORT  (default 4177)
//   - the always-on headless Node kernel (WebSockets)      PEER_PORT   (default 4178)
// Flags and the rest of the environment: `npm start -- --help` (server/config.ts).
//
// A plain Node script (so it runs before anything is built); the TypeScript services in
// server/ are loaded through tsx, as the naos CLI is. server/runtime.ts gives Node 20 what
// libp2p needs (Promise.withResolvers, a WebSocket client), so this works on Node 20 and 22+.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
register({ tsconfig: join(ROOT, 'tsconfig.json') });
const DIST = join(ROOT, 'dist');
const CONFIG = join(ROOT, 'vite.config.ts');
/** Everything the bundle is built from. A change to any of these (or a deletion inside them) means rebuild. */
const SOURCES = ['web', 'workers', 'src', 'adapters', 'public', 'vite.config.ts', 'package-lock.json'];
/** Written after a successful build; dotfiles are not served. */
const STAMP = join(DIST, '.naos-build.json');

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
  const { parseServerConfig, ServerConfigError, USAGE } = await import('../server/config.ts');
  let config;
  try {
    config = parseServerConfig(process.argv.slice(2), process.env, process.cwd());
  } catch (error) {
    if (!(error instanceof ServerConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
  if (config === 'help') {
    console.log(USAGE);
    return;
  }
  const vite = await import('vite');
  await buildIfNeeded(vite);
  const { startServices } = await import('../server/services.ts');
  const { peersJsonMiddleware, PEERS_JSON_PATH } = await import('../server/peers-json.ts');
  const { peerStatusMiddleware } = await import('../server/peer-status.ts');
  const services = await startServices(config).catch((error) => {
    if (error?.code === 'EADDRINUSE') {
      throw new Error(`a relay or peer port on ${config.host} is in use; set RELAY_PORT / PEER_PORT (0 picks a free one)`, {
        cause: error,
      });
    }
    throw error;
  });
  // Vite's preview server serves dist/ with sirv (correct types for .js, .wasm, .svg, …)
  // and SPA fallback; strictPort so it never silently moves to another port. peers.json
  // is answered before sirv and the SPA fallback see the request.
  let server;
  try {
    server = await vite.preview({
      configFile: CONFIG,
      logLevel: 'warn',
      preview: { host: config.host, port: config.port, strictPort: true, open: false },
      plugins: [
        {
          name: 'naos-peers-json',
          configurePreviewServer(preview) {
            preview.middlewares.use(peersJsonMiddleware(() => services.peersDocument()));
            preview.middlewares.use(peerStatusMiddleware(() => services.peer));
          },
          // Vite closes the server (and exits) by itself on SIGTERM or when stdin ends:
          // the relay and the peer (its ledger, its data-dir lock) are closed first.
          async closePreviewServer() {
            await services.stop();
          },
        },
      ],
    });
  } catch (error) {
    await services.stop();
    if (error?.code === 'EADDRINUSE')
      throw new Error(`Port ${config.port} on ${config.host} is in use; set PORT to another port.`, { cause: error });
    throw error;
  }
  const address = server.httpServer.address();
  const url = `http://${config.host}:${typeof address === 'object' && address ? address.port : config.port}/`;
  console.log(`Naos is served at ${url}`);
  console.log(`bootstrap list: ${new URL(PEERS_JSON_PATH, url)}`);

  let closing = false;
  const shutdown = (signal) => {
    if (closing) process.exit(1); // a second signal: stop waiting
    closing = true;
    console.log(`${signal}: shutting down`);
    setTimeout(() => process.exit(1), 5_000).unref();
    Promise.all([server.close(), services.stop()]).then(
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
  console.error(error?.message ?? error);
  if (error?.cause) console.error(error.cause);
  process.exit(1);
});
