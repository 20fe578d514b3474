import type { Transport } from '../../src/federation/transport.js';

/** The sync channel of a namespace: `naos` → `naos-sync`; a partition group gets a channel of its own. */
export function syncChannelName(namespace: string, partition?: string): string {
  return partition === undefined ? `${namespace}-sync` : `${namespace}-sync/partition:${partition}`;
}

export interface BroadcastTransportStats {
  /** Byte messages handed to the handlers. */
  received: number;
  /** Messages that were not bytes, or could not be deserialised (`messageerror`): dropped here. */
  dropped: number;
  /** Sends the channel refused (closed, or data it cannot clone): dropped, never thrown. */
  failedSends: number;
}

/**
 * Transport over a BroadcastChannel: every tab (and worker) of the origin that opened
 * the same channel name gets every message. There is no addressing — a send to one node
 * reaches all, and the SyncEngine ignores messages addressed to someone else — and no
 * sender identity: `link` is the channel name for every message, and anything in the
 * origin can post on the channel, so bytes are judged only by the engine (signatures,
 * replay window, rate limits; docs/THREAT_MODEL.md).
 */
export class BroadcastTransport implements Transport {
  readonly name = 'broadcast-channel';
  /** The channel name, which is also the `link` of every message received. */
  readonly link: string;
  readonly stats: BroadcastTransportStats = { received: 0, dropped: 0, failedSends: 0 };
  readonly #channel: BroadcastChannel;
  readonly #handlers = new Set<(bytes: Uint8Array, link: string) => void>();
  #closed = false;

  constructor(channelName: string) {
    this.link = channelName;
    this.#channel = new BroadcastChannel(channelName);
    this.#channel.onmessage = (event: MessageEvent<unknown>) => this.#receive(event.data);
    // Data that cannot be deserialised here (e.g. a SharedArrayBuffer posted across agent
    // clusters): nothing to hand on.
    this.#channel.onmessageerror = () => {
      this.stats.dropped++;
    };
  }

  /** Broadcasts `bytes`; there is no addressing here (receivers drop what is not for them). */
  send(bytes: Uint8Array): void {
    if (this.#closed) return;
    try {
      // Structured clone copies a view's whole buffer; send exactly the bytes.
      const exact = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
      this.#channel.postMessage(exact);
    } catch {
      this.stats.failedSends++;
    }
  }

  onMessage(handler: (bytes: Uint8Array, link: string) => void): () => void {
    this.#handlers.add(handler);
    return () => void this.#handlers.delete(handler);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#handlers.clear();
      this.#channel.close();
    }
    return Promise.resolve();
  }

  #receive(data: unknown): void {
    if (this.#closed) return;
    const bytes = asBytes(data);
    if (!bytes) {
      this.stats.dropped++;
      return;
    }
    this.stats.received++;
    for (const handler of this.#handlers) {
      try {
        handler(bytes, this.link);
      } catch {
        // A failing handler must not stop delivery to the others.
      }
    }
  }
}

/** Bytes as posted by another tab; any other value (a string, an object) is not a message. */
function asBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return undefined;
}
