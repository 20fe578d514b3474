/**
 * How sync bytes move between nodes. Adapters: in-memory (tests, simulator),
 * BroadcastChannel (tabs of one browser), libp2p streams (browsers and Node peers). All
 * pass tests/contract/transport-contract.ts. Transports never decode or judge bytes —
 * the SyncEngine does.
 */
export interface Transport {
  /** Adapter name, for diagnostics (`memory`, `broadcast-channel`, `libp2p`). */
  readonly name: string;
  /**
   * Sends to the node `to` if this transport can address it, otherwise to every peer
   * reachable through it. Never throws for an unreachable peer (delivery is best effort;
   * the protocol retries).
   */
  send(bytes: Uint8Array, to?: string): void;
  /**
   * Registers the receiver of incoming bytes; `link` names the immediate sender as this
   * transport knows it (a channel name, a libp2p peer id) for accounting. Returns the
   * unsubscribe function.
   */
  onMessage(handler: (bytes: Uint8Array, link: string) => void): () => void;
  close(): Promise<void>;
}

/**
 * Several transports used as one: sends go out on each; receipts from all of them reach
 * the handler. The engine drops the copies that arrive on more than one (by message
 * digest, before any signature check), so a tab reachable both by BroadcastChannel and
 * by libp2p costs one verification per message.
 */
export class TransportMux implements Transport {
  readonly name = 'mux';
  readonly #transports = new Set<Transport>();
  readonly #handlers = new Set<(bytes: Uint8Array, link: string) => void>();
  readonly #detach = new Map<Transport, () => void>();

  add(transport: Transport): void {
    if (this.#transports.has(transport)) return;
    this.#transports.add(transport);
    this.#detach.set(
      transport,
      transport.onMessage((bytes, link) => {
        for (const handler of this.#handlers) handler(bytes, `${transport.name}:${link}`);
      }),
    );
  }

  async remove(transport: Transport): Promise<void> {
    this.#detach.get(transport)?.();
    this.#detach.delete(transport);
    this.#transports.delete(transport);
    await transport.close();
  }

  send(bytes: Uint8Array, to?: string): void {
    for (const transport of this.#transports) transport.send(bytes, to);
  }

  onMessage(handler: (bytes: Uint8Array, link: string) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#transports].map((t) => this.remove(t)));
  }
}
