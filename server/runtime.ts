/**
 * What js-libp2p 3 needs from the runtime that Node 20 lacks. Import this module before
 * anything that imports libp2p (ES modules evaluate in import order); on Node 22+ and in
 * browsers it changes nothing.
 *
 * - `Promise.withResolvers` (ES2024; Node ≥ 22): libp2p calls it at run time — the relay
 *   dies with "Promise.withResolvers is not a function" without it.
 * - a global `WebSocket` (Node ≥ 22, or Node 20 with --experimental-websocket): the
 *   WebSockets transport dials with `new WebSocket(url)`. The `ws` package (which the
 *   same transport already uses for its listener) provides a WHATWG-compatible client.
 */
import { WebSocket as WsWebSocket } from 'ws';

interface WithResolvers {
  withResolvers?: <T>() => { promise: Promise<T>; resolve: (value: T | PromiseLike<T>) => void; reject: (reason?: unknown) => void };
}

const installed: string[] = [];
const promiseConstructor = Promise as unknown as WithResolvers;
if (typeof promiseConstructor.withResolvers !== 'function') {
  installed.push('Promise.withResolvers');
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

const global = globalThis as { WebSocket?: unknown };
/**
 * `ws`'s client is an EventEmitter underneath: an 'error' with no listener attached (e.g.
 * a 503 from a server that is shutting down, after the dialer stopped listening) would
 * be thrown as an uncaught exception. A WHATWG WebSocket never throws for that — it
 * reports the error and closes — so every socket gets a listener that keeps it so.
 */
class NodeWebSocket extends WsWebSocket {
  constructor(...args: ConstructorParameters<typeof WsWebSocket>) {
    super(...args);
    this.on('error', () => undefined);
  }
}

if (typeof global.WebSocket !== 'function') {
  installed.push('WebSocket (from ws)');
  global.WebSocket = NodeWebSocket;
}

/** Which parts were filled in here (for the start-up log). */
export const RUNTIME_POLYFILLS: readonly string[] = installed;
