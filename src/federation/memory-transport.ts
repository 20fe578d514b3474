import type { Transport } from './transport.js';

/**
 * An in-memory hub: every MemoryTransport on one hub reaches the others, in order,
 * asynchronously (a microtask later), like a lossless BroadcastChannel. Addressed sends
 * go only to the transport registered under that node id.
 */
export class MemoryHub {
  readonly #members = new Map<MemoryTransport, string | undefined>();

  join(nodeId?: string): MemoryTransport {
    const transport = new MemoryTransport(this, nodeId);
    this.#members.set(transport, nodeId);
    return transport;
  }

  /** @internal */
  deliver(from: MemoryTransport, bytes: Uint8Array, to: string | undefined): void {
    for (const [member, nodeId] of this.#members) {
      if (member === from || (to !== undefined && nodeId !== undefined && nodeId !== to)) continue;
      const copy = bytes.slice();
      void Promise.resolve().then(() => member.receive(copy, from.link));
    }
  }

  /** @internal */
  leave(transport: MemoryTransport): void {
    this.#members.delete(transport);
  }
}

let nextLink = 1;

export class MemoryTransport implements Transport {
  readonly name = 'memory';
  readonly link = `mem-${nextLink++}`;
  readonly #handlers = new Set<(bytes: Uint8Array, link: string) => void>();
  #closed = false;

  constructor(
    readonly hub: MemoryHub,
    readonly nodeId?: string,
  ) {}

  send(bytes: Uint8Array, to?: string): void {
    if (!this.#closed) this.hub.deliver(this, bytes, to);
  }

  onMessage(handler: (bytes: Uint8Array, link: string) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** @internal */
  receive(bytes: Uint8Array, link: string): void {
    if (this.#closed) return;
    for (const handler of this.#handlers) handler(bytes, link);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.hub.leave(this);
    return Promise.resolve();
  }
}
