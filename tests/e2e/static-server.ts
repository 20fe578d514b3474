import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

export interface StaticServer {
  readonly url: string;
  /** Stops listening and drops every open connection: afterwards the port refuses connections. */
  stop(): Promise<void>;
}

/**
 * Serves the built app (dist/, as `npm start` built it for the e2e run) on 127.0.0.1:`port`
 * with an SPA fallback, for tests that must stop the server mid-test.
 */
export async function serveDist(port: number): Promise<StaticServer> {
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const file = normalize(join(DIST, path === '/' ? 'index.html' : path));
    const send = (body: Buffer, type: string) => {
      response.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
      response.end(body);
    };
    const inside = file.startsWith(DIST);
    (inside ? readFile(file) : Promise.reject(new Error('outside dist')))
      .then((body) => send(body, TYPES[extname(file)] ?? 'application/octet-stream'))
      .catch(() =>
        extname(path) === ''
          ? readFile(join(DIST, 'index.html')).then((body) => send(body, TYPES['.html']!))
          : Promise.reject(new Error('not found')),
      )
      .catch(() => {
        response.writeHead(404);
        response.end();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
