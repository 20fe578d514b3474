import { TokenParser, TokenParserError, Tokenizer, TokenizerError, TokenType } from '@streamparser/json';
import {
  EXPORT_FORMAT,
  type ExportCheck,
  ExportFormatError,
  type ExportReport,
  exportReport,
  LogVerifier,
  parseCheckpointRecord,
  parseConsistencyRecord,
  parseInclusionRecord,
} from '../src/ledger/export.js';

/**
 * Verifies an export as it is read, holding 32 bytes per entry and its Merkle tree instead
 * of the whole text (an export of a million entries is about 1.7 GB, more than one
 * JavaScript string can hold). It follows the layout `naos ledger export` writes: keys in
 * its order (`format`, `logs`; in each log `origin`, `verifierKey`, `entries`,
 * `checkpoints`, `inclusion`, `consistency`), nothing else. Anything else, a JSON error or
 * a field of the wrong shape included, resolves to `'not-streamable'`, and the caller
 * checks the text as a whole (verifyExport), which then names the problem exactly as
 * it would have.
 */
export async function verifyExportStream(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<ExportReport | 'not-streamable'> {
  const reader = new ExportReader();
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const text = (chunk?: Uint8Array): string => {
    try {
      return chunk ? utf8.decode(chunk, { stream: true }) : utf8.decode();
    } catch {
      throw new NotStreamable('not UTF-8');
    }
  };
  try {
    for await (const chunk of chunks) {
      reader.write(text(chunk));
      await reader.drain();
    }
    reader.write(text());
    reader.end();
    await reader.drain();
    return reader.report();
  } catch (error) {
    if (
      error instanceof NotStreamable ||
      error instanceof ExportFormatError ||
      error instanceof TokenizerError ||
      error instanceof TokenParserError
    ) {
      return 'not-streamable';
    }
    throw error;
  }
}

/**
 * Where a record's shape error would say it is: never shown, because a record of the wrong
 * shape makes the input not streamable, and the whole-text check names its JSON path.
 */
const RECORD = 'a record';

/** The input is not laid out as an export the stream reader follows (see verifyExportStream). */
class NotStreamable extends Error {}

const TOP_KEYS = ['format', 'logs'] as const;
const LOG_KEYS = ['origin', 'verifierKey', 'entries', 'checkpoints', 'inclusion', 'consistency'] as const;
type LogKey = (typeof LOG_KEYS)[number];

type Step =
  | { readonly kind: 'log-start'; readonly origin: string; readonly verifierKey: string }
  | { readonly kind: 'entry'; readonly text: string }
  | { readonly kind: 'checkpoint'; readonly value: unknown }
  | { readonly kind: 'checkpoints-done' }
  | { readonly kind: 'inclusion'; readonly value: unknown }
  | { readonly kind: 'consistency'; readonly value: unknown }
  | { readonly kind: 'log-end' };

/**
 * Follows the token stream: which key of which object it is in (a stack of containers),
 * refusing any layout but the export's, and queues what the log verifier is to be fed;
 * `drain` feeds it (the checkpoint signatures are checked asynchronously).
 */
class ExportReader {
  readonly #tokenizer = new Tokenizer();
  readonly #values = new TokenParser({
    paths: [
      '$.format',
      '$.logs.*.origin',
      '$.logs.*.verifierKey',
      ...['entries', 'checkpoints', 'inclusion', 'consistency'].map((k) => `$.logs.*.${k}.*`),
    ],
    keepStack: false,
  });
  /** Open containers, outermost first: an object's keys so far, or an array's item count. */
  readonly #stack: ({ readonly kind: 'object'; keys: string[]; expectKey: boolean } | { readonly kind: 'array'; items: number })[] = [];
  #steps: Step[] = [];
  #ended = false;
  #formatSeen = false;

  readonly #origins: string[] = [];
  readonly #logs: ExportCheck[][] = [];
  #origin: string | undefined;
  #verifierKey: string | undefined;
  #verifier: LogVerifier | undefined;

  constructor() {
    this.#tokenizer.onToken = ({ token, value }) => {
      this.#track(token, value);
      this.#values.write({ token, value });
    };
    this.#values.onValue = ({ value }) => this.#onValue(value);
  }

  write(text: string): void {
    if (text.length > 0) this.#tokenizer.write(text);
  }

  end(): void {
    this.#tokenizer.end();
    if (!this.#ended) throw new NotStreamable('the export ends before its top-level object does');
  }

  async drain(): Promise<void> {
    const steps = this.#steps;
    this.#steps = [];
    for (const step of steps) await this.#feed(step);
  }

  report(): ExportReport {
    if (!this.#formatSeen) throw new NotStreamable('no format');
    return exportReport(this.#origins, this.#logs);
  }

  async #feed(step: Step): Promise<void> {
    switch (step.kind) {
      case 'log-start':
        this.#origins.push(step.origin);
        this.#verifier = new LogVerifier(step.origin, step.verifierKey);
        return;
      case 'entry':
        this.#log().entry(step.text);
        return;
      case 'checkpoint':
        this.#log().checkpoint(parseCheckpointRecord(step.value, RECORD));
        return;
      case 'checkpoints-done':
        await this.#log().checkpointsDone();
        return;
      case 'inclusion':
        this.#log().inclusion(parseInclusionRecord(step.value, RECORD));
        return;
      case 'consistency':
        this.#log().consistency(parseConsistencyRecord(step.value, RECORD));
        return;
      case 'log-end':
        this.#logs.push(this.#log().finish());
        this.#verifier = undefined;
        return;
    }
  }

  #log(): LogVerifier {
    if (!this.#verifier) throw new Error('ExportReader: a log field before its log started');
    return this.#verifier;
  }

  /** The key of the log field the reader is in (depth: top object, logs array, log object). */
  #logField(): LogKey | undefined {
    const log = this.#stack[2];
    return log?.kind === 'object' ? (log.keys.at(-1) as LogKey | undefined) : undefined;
  }

  #onValue(value: unknown): void {
    const depth = this.#stack.length;
    if (depth === 1) {
      // $.format
      if (value !== EXPORT_FORMAT) throw new NotStreamable('format');
      this.#formatSeen = true;
      return;
    }
    const field = this.#logField();
    if (depth === 3) {
      if (typeof value !== 'string') throw new NotStreamable(`${field} is not a string`);
      if (field === 'origin') this.#origin = value;
      else this.#verifierKey = value;
      return;
    }
    if (field === 'entries') {
      if (typeof value !== 'string') throw new NotStreamable('an entry is not a string');
      this.#steps.push({ kind: 'entry', text: value });
      return;
    }
    if (field === 'checkpoints') this.#steps.push({ kind: 'checkpoint', value });
    else if (field === 'inclusion') this.#steps.push({ kind: 'inclusion', value });
    else this.#steps.push({ kind: 'consistency', value });
  }

  #track(token: TokenType, value: unknown): void {
    if (this.#ended) throw new NotStreamable('more after the export');
    const top = this.#stack.at(-1);
    // A key: a string where an object expects one.
    if (top?.kind === 'object' && top.expectKey) {
      if (token === TokenType.RIGHT_BRACE) return this.#close('object');
      if (token !== TokenType.STRING) throw new NotStreamable('key expected');
      this.#key(top, value as string);
      return;
    }
    switch (token) {
      case TokenType.COLON:
        return;
      case TokenType.COMMA:
        if (top?.kind === 'object') top.expectKey = true;
        return;
      case TokenType.RIGHT_BRACKET:
        return this.#close('array');
      case TokenType.RIGHT_BRACE:
        return this.#close('object');
      default:
        this.#beginValue(token);
    }
  }

  /** A key of the export object or of a log: the next in the export's order, or the reader gives up. Records' keys are the record parser's. */
  #key(object: { keys: string[]; expectKey: boolean }, key: string): void {
    object.expectKey = false;
    const depth = this.#stack.length;
    if (depth !== 1 && depth !== 3) return;
    const order: readonly string[] = depth === 1 ? TOP_KEYS : LOG_KEYS;
    if (order[object.keys.length] !== key) throw new NotStreamable(`key ${key} out of the export's order`);
    object.keys.push(key);
    if (depth !== 3) return;
    // The key order puts both strings before the entries (their values are checked to be strings as they come).
    if (key === 'entries') this.#steps.push({ kind: 'log-start', origin: this.#origin!, verifierKey: this.#verifierKey! });
    if (key === 'inclusion') this.#steps.push({ kind: 'checkpoints-done' });
  }

  /** A value starts (a container opens, or a scalar): it must be of the kind its place in an export takes. */
  #beginValue(token: TokenType): void {
    const depth = this.#stack.length;
    const parent = this.#stack.at(-1);
    if (parent?.kind === 'array') parent.items++;
    const opens = token === TokenType.LEFT_BRACE ? 'object' : token === TokenType.LEFT_BRACKET ? 'array' : undefined;
    const wanted = this.#wantedAt(depth);
    if (wanted !== 'any' && wanted !== (opens ?? 'scalar')) {
      throw new NotStreamable(`a ${opens ?? 'scalar'} where an export has a ${wanted}`);
    }
    if (opens === 'object') this.#stack.push({ kind: 'object', keys: [], expectKey: true });
    else if (opens === 'array') this.#stack.push({ kind: 'array', items: 0 });
    else if (depth === 0) throw new NotStreamable('not an object');
  }

  /** What a value at `depth` is in an export: the export object; format (a string) or the logs array; a log object; a log field; a record or an entry (checked when complete). */
  #wantedAt(depth: number): 'object' | 'array' | 'scalar' | 'any' {
    switch (depth) {
      case 0:
        return 'object';
      case 1:
        return this.#stack[0]?.kind === 'object' && this.#stack[0].keys.at(-1) === 'logs' ? 'array' : 'scalar';
      case 2:
        return 'object';
      case 3: {
        const field = this.#logField();
        return field === 'origin' || field === 'verifierKey' ? 'scalar' : 'array';
      }
      default:
        return 'any';
    }
  }

  #close(kind: 'object' | 'array'): void {
    const closed = this.#stack.pop();
    if (closed?.kind !== kind) throw new NotStreamable('mismatched close');
    const depth = this.#stack.length;
    if (closed.kind === 'object') {
      const expected = depth === 0 ? TOP_KEYS : depth === 2 ? LOG_KEYS : undefined;
      if (expected && closed.keys.length !== expected.length) throw new NotStreamable('fields missing');
      if (depth === 2) this.#steps.push({ kind: 'log-end' });
    }
    if (depth === 0) this.#ended = true;
  }
}
