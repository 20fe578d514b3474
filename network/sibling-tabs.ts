/**
 * The libp2p peer ids of the other tabs of this browser (same origin and namespace). Tabs
 * of one browser federate over their BroadcastChannel; a WebRTC link between them would
 * carry every message a second time, so each page announces its peer id on a channel of
 * its own and the network skips the peer ids it hears there.
 *
 * Messages: `{type: 'hello', peerId}` (a node started; others answer with `here`),
 * `{type: 'here', peerId}`, `{type: 'bye', peerId}` (stopped or page hidden for good).
 * Anything else is ignored. A page that vanishes without `bye` stays listed: skipping a
 * dead peer id costs nothing.
 */
export class SiblingTabs {
  readonly #channel: BroadcastChannel;
  readonly #peers = new Set<string>();
  #own: string | undefined;
  readonly #onPageHide = (event: PageTransitionEvent): void => {
    if (!event.persisted) this.announce(undefined);
  };

  constructor(name: string) {
    this.#channel = new BroadcastChannel(name);
    this.#channel.onmessage = (event: MessageEvent) => this.#receive(event.data);
    globalThis.addEventListener?.('pagehide', this.#onPageHide);
  }

  get size(): number {
    return this.#peers.size;
  }

  has(peerId: string): boolean {
    return this.#peers.has(peerId);
  }

  /** Tells the other tabs this tab's peer id (undefined: it has none any more). */
  announce(peerId: string | undefined): void {
    if (peerId === this.#own) return;
    if (this.#own !== undefined) this.#post({ type: 'bye', peerId: this.#own });
    this.#own = peerId;
    if (peerId !== undefined) this.#post({ type: 'hello', peerId });
  }

  close(): void {
    this.announce(undefined);
    globalThis.removeEventListener?.('pagehide', this.#onPageHide);
    this.#channel.close();
  }

  #receive(data: unknown): void {
    const message = data as { type?: unknown; peerId?: unknown } | null;
    if (typeof message !== 'object' || message === null || typeof message.peerId !== 'string' || message.peerId.length > 256) return;
    const { peerId } = message;
    if (peerId === this.#own) return;
    if (message.type === 'hello' || message.type === 'here') {
      // Bounded: a hostile script on the channel cannot grow this without end.
      if (!this.#peers.has(peerId) && this.#peers.size >= 1024) return;
      this.#peers.add(peerId);
      if (message.type === 'hello' && this.#own !== undefined) this.#post({ type: 'here', peerId: this.#own });
    } else if (message.type === 'bye') {
      this.#peers.delete(peerId);
    }
  }

  #post(message: { type: 'hello' | 'here' | 'bye'; peerId: string }): void {
    try {
      this.#channel.postMessage(message);
    } catch {
      // A closed channel: nothing to tell.
    }
  }
}
