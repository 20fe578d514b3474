import type { Stream } from '@libp2p/interface';
import { LengthPrefixedDecoder } from '@libp2p/utils';
import { NaosError } from '../../src/errors.js';

/**
 * Length-prefixed frames (unsigned varint length, then the bytes — the libp2p
 * convention) over one long-lived libp2p stream, both ways, with backpressure:
 *
 * - writing: frames go straight to the stream while it accepts data; once it signals a
 *   full buffer (`send` returns false) they queue until 'drain', up to `maxQueuedBytes`
 *   — beyond that a frame is dropped (the sync protocol re-asks for what it misses) and
 *   counted, so a slow peer costs bounded memory;
 * - reading: every complete frame is handed on as it arrives; a length over `maxFrameBytes`
 *   aborts the stream before the frame is buffered.
 *
 * Everything attached to the stream is removed when it closes.
 */
export interface FrameStreamOptions {
  readonly maxFrameBytes: number;
  readonly maxQueuedBytes: number;
  readonly onFrame: (frame: Uint8Array) => void;
  readonly onClose: (error?: Error) => void;
}

/** A peer announced a frame over the limit; its stream is aborted. */
export class FrameTooLargeError extends NaosError {}

export class FrameStream {
  readonly stream: Stream;
  /** Frames dropped because the write queue was full or the stream closed. */
  dropped = 0;
  framesIn = 0;
  framesOut = 0;
  readonly #o: FrameStreamOptions;
  readonly #decoder: LengthPrefixedDecoder;
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #waiting = false;
  #closed = false;
  readonly #onMessage: (event: Event) => void;
  readonly #onCloseEvent: (event: Event) => void;

  constructor(stream: Stream, options: FrameStreamOptions) {
    this.stream = stream;
    this.#o = options;
    // The decoder's buffer holds at most one frame plus the next one's start.
    this.#decoder = new LengthPrefixedDecoder({ maxDataLength: options.maxFrameBytes, maxBufferSize: 2 * options.maxFrameBytes + 16 });
    this.#onMessage = (event) => this.#receive((event as Event & { data: Parameters<LengthPrefixedDecoder['decode']>[0] }).data);
    this.#onCloseEvent = (event) => this.#finish((event as Event & { error?: Error }).error);
    stream.addEventListener('message', this.#onMessage);
    stream.addEventListener('close', this.#onCloseEvent);
    if (stream.status !== 'open') this.#finish();
  }

  get open(): boolean {
    return !this.#closed;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Queues one frame; false if it was dropped (stream closed or queue full). Never throws. */
  write(bytes: Uint8Array): boolean {
    if (this.#closed) {
      this.dropped++;
      return false;
    }
    const frame = withLength(bytes);
    if (this.#waiting || this.#queue.length > 0) {
      if (this.#queuedBytes + frame.length > this.#o.maxQueuedBytes) {
        this.dropped++;
        return false;
      }
      this.#queue.push(frame);
      this.#queuedBytes += frame.length;
      return true;
    }
    return this.#send(frame);
  }

  /** Closes the stream for writing after what is queued; the remote's frames may still arrive. */
  async close(signal?: AbortSignal): Promise<void> {
    if (this.#closed) return;
    try {
      await this.stream.close(signal ? { signal } : {});
    } catch (error) {
      this.stream.abort(error as Error);
    }
  }

  abort(error: Error): void {
    this.stream.abort(error);
    this.#finish(error);
  }

  #send(frame: Uint8Array): boolean {
    try {
      this.framesOut++;
      if (!this.stream.send(frame)) void this.#drain();
      return true;
    } catch {
      this.dropped++;
      return false;
    }
  }

  async #drain(): Promise<void> {
    this.#waiting = true;
    try {
      while (!this.#closed) {
        await this.stream.onDrain();
        let full = false;
        while (this.#queue.length > 0 && !full) {
          const frame = this.#queue.shift()!;
          this.#queuedBytes -= frame.length;
          this.framesOut++;
          full = !this.stream.send(frame);
        }
        if (!full) return;
      }
    } catch {
      // Closed or reset while waiting: #finish drops the queue.
    } finally {
      this.#waiting = false;
    }
  }

  #receive(data: Parameters<LengthPrefixedDecoder['decode']>[0]): void {
    if (this.#closed) return;
    const frames: Uint8Array[] = [];
    try {
      // A copy of each frame: it must not pin or alias the stream's buffers.
      for (const frame of this.#decoder.decode(data)) frames.push(frame.slice());
    } catch (error) {
      this.abort(new FrameTooLargeError(`frame over ${this.#o.maxFrameBytes} bytes: ${(error as Error).message}`));
    }
    for (const frame of frames) {
      this.framesIn++;
      try {
        this.#o.onFrame(frame);
      } catch {
        // A failing handler must not stop the stream.
      }
    }
  }

  #finish(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stream.removeEventListener('message', this.#onMessage);
    this.stream.removeEventListener('close', this.#onCloseEvent);
    this.dropped += this.#queue.length;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.#o.onClose(error);
  }
}

/** `bytes` preceded by its length as an unsigned varint (LEB128), in one buffer. */
export function withLength(bytes: Uint8Array): Uint8Array {
  let length = bytes.length;
  const prefix: number[] = [];
  while (length >= 0x80) {
    prefix.push((length & 0x7f) | 0x80);
    length = Math.floor(length / 128);
  }
  prefix.push(length);
  const out = new Uint8Array(prefix.length + bytes.length);
  out.set(prefix);
  out.set(bytes, prefix.length);
  return out;
}
