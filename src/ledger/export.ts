import { fromBase64, fromHex, toBase64, toHex } from '../bytes.js';
import { InvalidInputError, NaosError } from '../errors.js';
import { nodeIdFromPublicKey, nodeIdOfOrigin } from '../identity/node-id.js';
import { ProofVerificationError } from '../merkle/errors.js';
import { leafHash } from '../merkle/hash.js';
import { MerkleTree } from '../merkle/tree.js';
import { verifyConsistency, verifyInclusion } from '../merkle/verify.js';
import type { StoredCheckpoint } from '../storage/ledger-store.js';
import { CheckpointFormatError, openCheckpoint } from './checkpoint.js';
import { decodeEntry, EntryDecodeError } from './entry.js';
import { type Hlc, timeRegression } from './hlc.js';
import { NoteFormatError, NoteVerificationError, type NoteVerifier, parseVerifierKey } from './note.js';

/**
 * The ledger export (docs/EXPORT.md): everything needed to check a node's logs offline,
 * with nothing but this file and the standards it follows.
 *
 *   { format: "naos-ledger-export/1",
 *     logs: [{ origin, verifierKey,
 *              entries:     [base64 of entry bytes, by index],
 *              checkpoints: [{ size, note }]               signed C2SP notes, ascending size,
 *              inclusion:   [{ index, size, proof: [hex] }] one per entry, at the latest checkpoint,
 *              consistency: [{ size1, size2, proof: [hex] }] between successive checkpoints, size1 > 0 }] }
 *
 * Roots are never given separately: the only trusted roots are the ones inside notes
 * whose signature verifies against the log's verifier key.
 */

export const EXPORT_FORMAT = 'naos-ledger-export/1';

export interface LedgerExport {
  readonly format: typeof EXPORT_FORMAT;
  readonly logs: readonly LogExport[];
}

export interface LogExport {
  readonly origin: string;
  /** C2SP verifier key string: name+keyhash+base64(0x01 ‖ public key). */
  readonly verifierKey: string;
  /** Entry bytes, standard base64, in log order. */
  readonly entries: readonly string[];
  readonly checkpoints: readonly StoredCheckpoint[];
  readonly inclusion: readonly InclusionRecord[];
  readonly consistency: readonly ConsistencyRecord[];
}

export interface InclusionRecord {
  readonly index: number;
  readonly size: number;
  /** RFC 9162 inclusion path, leaf side first, lower-case hex. */
  readonly proof: readonly string[];
}

export interface ConsistencyRecord {
  readonly size1: number;
  readonly size2: number;
  /** RFC 9162 consistency proof, lower-case hex. */
  readonly proof: readonly string[];
}

/** What buildExport needs of one log. */
export interface LogExportInput {
  readonly origin: string;
  readonly verifierKey: string;
  readonly entries: readonly Uint8Array[];
  readonly checkpoints: readonly StoredCheckpoint[];
}

/** The part of a kernel an export reads (a Kernel satisfies it). */
export interface ExportableNode {
  readonly origin: string;
  /** Every held log with the key that signs its checkpoints. */
  adverts(): readonly { readonly origin: string; readonly verifierKey: string }[];
  /** The signed checkpoints held of a log (throws for a log not held). */
  checkpoints(origin?: string): { size: number; note: string }[];
  readEntryBytes(start: number, end: number, origin?: string): Promise<Uint8Array[]>;
}

/** The value given to verifyExport is not an export (wrong JSON shape or format tag). */
export class ExportFormatError extends InvalidInputError {}

/** buildExport was given logs it cannot export (e.g. entries the latest checkpoint does not cover). */
export class ExportBuildError extends NaosError {}

export interface ExportCheck {
  /** What was checked, e.g. `naos/abc…: checkpoint signatures`. */
  readonly name: string;
  readonly ok: boolean;
  /** Why it passed or, on failure, the first things found wrong. */
  readonly detail: string;
}

export interface ExportReport {
  readonly ok: boolean;
  readonly checks: readonly ExportCheck[];
}

/**
 * Reads one held log (by default the node's own) up to its latest signed checkpoint, the
 * entry bytes re-checked against its verified tree; with every checkpoint held of it (for
 * a replica: those that came with its batches).
 */
export async function readLogForExport(node: ExportableNode, origin: string = node.origin): Promise<LogExportInput> {
  const checkpoints = node.checkpoints(origin);
  const verifierKey = node.adverts().find((advert) => advert.origin === origin)?.verifierKey;
  const latest = checkpoints[checkpoints.length - 1];
  if (verifierKey === undefined || latest === undefined) throw new ExportBuildError(`log ${origin} has no checkpoint to export`);
  return { origin, verifierKey, entries: await node.readEntryBytes(0, latest.size, origin), checkpoints };
}

/**
 * Builds the export of sealed logs: each log's latest checkpoint must cover exactly its
 * entries. Proofs are computed here from the entries, so the export is self-contained.
 */
export function buildExport(logs: readonly LogExportInput[]): LedgerExport {
  return { format: EXPORT_FORMAT, logs: logs.map(buildLogExport) };
}

function buildLogExport(log: LogExportInput): LogExport {
  const { latest, tree, consistency } = prepareLog(log);
  return {
    origin: log.origin,
    verifierKey: log.verifierKey,
    entries: log.entries.map(toBase64),
    checkpoints: log.checkpoints.map((c) => ({ size: c.size, note: c.note })),
    inclusion: log.entries.map((_, index) => inclusionRecord(tree, index, latest.size)),
    consistency,
  };
}

/** Checks that a log is sealed, and builds its tree and the consistency proofs between its checkpoints. */
function prepareLog(log: LogExportInput): { latest: StoredCheckpoint; tree: MerkleTree; consistency: ConsistencyRecord[] } {
  const latest = log.checkpoints[log.checkpoints.length - 1];
  if (!latest) throw new ExportBuildError(`log ${log.origin} has no checkpoint to export`);
  if (latest.size !== log.entries.length) {
    throw new ExportBuildError(`log ${log.origin}: latest checkpoint covers ${latest.size} entries, but ${log.entries.length} were given`);
  }
  const tree = new MerkleTree();
  for (const bytes of log.entries) tree.appendData(bytes);
  const consistency: ConsistencyRecord[] = [];
  log.checkpoints.forEach((checkpoint, i) => {
    const previous = log.checkpoints[i - 1];
    if (previous && previous.size > 0) {
      consistency.push({
        size1: previous.size,
        size2: checkpoint.size,
        proof: tree.consistencyProof(previous.size, checkpoint.size).map(toHex),
      });
    }
  });
  return { latest, tree, consistency };
}

function inclusionRecord(tree: MerkleTree, index: number, size: number): InclusionRecord {
  return { index, size, proof: tree.inclusionProof(index, size).map(toHex) };
}

/** How far a streamed export is: entries and inclusion proofs written, of `total` (twice the entries). */
export interface ExportProgress {
  readonly written: number;
  readonly total: number;
}

export interface ExportTextOptions {
  /** Items (entries or proofs) per piece of text (default 2000). */
  readonly chunkItems?: number;
  /** Called after every piece with the items written so far. */
  readonly onProgress?: (progress: ExportProgress) => void;
}

/**
 * The export of `logs` as JSON text in pieces: exactly `JSON.stringify(buildExport(logs),
 * null, 2)` and a newline, but each inclusion proof is computed only when its piece is made,
 * so a writer that passes the pieces on (a file, a Blob) never holds the whole text or
 * every proof at once — only the entries and their tree. Throws ExportBuildError, as
 * buildExport does, before yielding anything.
 */
export function* exportText(logs: readonly LogExportInput[], options: ExportTextOptions = {}): Generator<string, void, undefined> {
  const prepared = logs.map((log) => ({ log, ...prepareLog(log) }));
  const chunk = Math.max(1, options.chunkItems ?? 2000);
  const total = 2 * logs.reduce((sum, log) => sum + log.entries.length, 0);
  let written = 0;
  const progress = (items: number): void => {
    written += items;
    options.onProgress?.({ written, total });
  };
  yield `{\n  "format": ${JSON.stringify(EXPORT_FORMAT)},\n  "logs": ${prepared.length === 0 ? '[]' : '['}`;
  for (const [i, { log, latest, tree, consistency }] of prepared.entries()) {
    const size = latest.size;
    yield `${i === 0 ? '' : ','}\n    {\n      "origin": ${JSON.stringify(log.origin)},\n      "verifierKey": ${JSON.stringify(log.verifierKey)},\n      "entries": `;
    yield* jsonArray(log.entries.length, (j) => toBase64(log.entries[j]!), chunk, progress);
    yield ',\n      "checkpoints": ';
    yield* jsonArray(log.checkpoints.length, (j) => ({ size: log.checkpoints[j]!.size, note: log.checkpoints[j]!.note }), chunk);
    yield ',\n      "inclusion": ';
    yield* jsonArray(size, (j) => inclusionRecord(tree, j, size), chunk, progress);
    yield ',\n      "consistency": ';
    yield* jsonArray(consistency.length, (j) => consistency[j]!, chunk);
    yield '\n    }';
  }
  yield `${prepared.length === 0 ? '' : '\n  ]'}\n}\n`;
}

/** A JSON array at the depth of a log's fields, as JSON.stringify(…, null, 2) lays it out, `chunk` items per piece. */
function* jsonArray(
  length: number,
  item: (index: number) => unknown,
  chunk: number,
  progress?: (items: number) => void,
): Generator<string, void, undefined> {
  if (length === 0) {
    yield '[]';
    return;
  }
  const itemIndent = '\n        ';
  let piece = '[';
  let inPiece = 0;
  for (let i = 0; i < length; i++) {
    piece += `${i === 0 ? '' : ','}${itemIndent}${JSON.stringify(item(i), null, 2).replaceAll('\n', itemIndent)}`;
    if (++inPiece === chunk) {
      yield piece;
      progress?.(inPiece);
      piece = '';
      inPiece = 0;
    }
  }
  yield `${piece}\n      ]`;
  if (inPiece > 0) progress?.(inPiece);
}

// ---------------------------------------------------------------------------------------
// Parsing: the JSON shape only. Anything about content (encodings, signatures, hashes) is
// a verification check, so a tampered export reports what failed rather than "bad input".

/** Checks that `value` has the export's JSON shape; throws ExportFormatError naming the first wrong part. */
export function parseExport(value: unknown): LedgerExport {
  const top = expectObject(value, '$', ['format', 'logs']);
  if (top['format'] !== EXPORT_FORMAT) {
    throw new ExportFormatError(`$.format must be ${JSON.stringify(EXPORT_FORMAT)}, got ${preview(top['format'])}`);
  }
  const logs = expectArray(top['logs'], '$.logs').map((item, i): LogExport => {
    const path = `$.logs[${i}]`;
    const log = expectObject(item, path, ['origin', 'verifierKey', 'entries', 'checkpoints', 'inclusion', 'consistency']);
    return {
      origin: expectString(log['origin'], `${path}.origin`),
      verifierKey: expectString(log['verifierKey'], `${path}.verifierKey`),
      entries: expectArray(log['entries'], `${path}.entries`).map((e, j) => expectString(e, `${path}.entries[${j}]`)),
      checkpoints: expectArray(log['checkpoints'], `${path}.checkpoints`).map((c, j) =>
        parseCheckpointRecord(c, `${path}.checkpoints[${j}]`),
      ),
      inclusion: expectArray(log['inclusion'], `${path}.inclusion`).map((p, j) => parseInclusionRecord(p, `${path}.inclusion[${j}]`)),
      consistency: expectArray(log['consistency'], `${path}.consistency`).map((p, j) =>
        parseConsistencyRecord(p, `${path}.consistency[${j}]`),
      ),
    };
  });
  return { format: EXPORT_FORMAT, logs };
}

/** One `checkpoints` item at JSON path `at`; throws ExportFormatError if it has another shape. */
export function parseCheckpointRecord(value: unknown, at: string): StoredCheckpoint {
  const checkpoint = expectObject(value, at, ['size', 'note']);
  return { size: expectCount(checkpoint['size'], `${at}.size`), note: expectString(checkpoint['note'], `${at}.note`) };
}

/** One `inclusion` item at JSON path `at`; throws ExportFormatError if it has another shape. */
export function parseInclusionRecord(value: unknown, at: string): InclusionRecord {
  const proof = expectObject(value, at, ['index', 'size', 'proof']);
  return {
    index: expectCount(proof['index'], `${at}.index`),
    size: expectCount(proof['size'], `${at}.size`),
    proof: expectHashes(proof['proof'], at),
  };
}

/** One `consistency` item at JSON path `at`; throws ExportFormatError if it has another shape. */
export function parseConsistencyRecord(value: unknown, at: string): ConsistencyRecord {
  const proof = expectObject(value, at, ['size1', 'size2', 'proof']);
  return {
    size1: expectCount(proof['size1'], `${at}.size1`),
    size2: expectCount(proof['size2'], `${at}.size2`),
    proof: expectHashes(proof['proof'], at),
  };
}

function preview(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function expectObject(value: unknown, path: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ExportFormatError(`${path} must be an object, got ${Array.isArray(value) ? 'an array' : preview(value)}`);
  }
  const object = value as Record<string, unknown>;
  for (const key of keys) if (!Object.hasOwn(object, key)) throw new ExportFormatError(`${path}.${key} is missing`);
  const unknown = Object.keys(object).filter((key) => !keys.includes(key));
  if (unknown.length > 0) throw new ExportFormatError(`${path} has unknown field ${JSON.stringify(unknown[0])} (format ${EXPORT_FORMAT})`);
  return object;
}

function expectArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new ExportFormatError(`${path} must be an array, got ${preview(value)}`);
  return value;
}

function expectString(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new ExportFormatError(`${path} must be a string, got ${preview(value)}`);
  return value;
}

function expectCount(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ExportFormatError(`${path} must be a non-negative integer, got ${preview(value)}`);
  }
  return value;
}

function expectHashes(value: unknown, path: string): string[] {
  return expectArray(value, `${path}.proof`).map((h, k) => expectString(h, `${path}.proof[${k}]`));
}

// ---------------------------------------------------------------------------------------
// Verification.

/**
 * Verifies an export fully offline and reports every check, passed or failed. Throws
 * ExportFormatError only if `value` does not have the export's shape; a tampered but
 * well-shaped export yields failed checks, never an exception.
 */
export async function verifyExport(value: unknown): Promise<ExportReport> {
  const parsed = parseExport(value);
  const logs: ExportCheck[][] = [];
  for (const log of parsed.logs) {
    const verifier = new LogVerifier(log.origin, log.verifierKey);
    for (const entry of log.entries) verifier.entry(entry);
    for (const checkpoint of log.checkpoints) verifier.checkpoint(checkpoint);
    await verifier.checkpointsDone();
    for (const record of log.inclusion) verifier.inclusion(record);
    for (const record of log.consistency) verifier.consistency(record);
    logs.push(verifier.finish());
  }
  return exportReport(
    parsed.logs.map((log) => log.origin),
    logs,
  );
}

/** The report over every log's checks, led by the check of the list of logs itself. */
export function exportReport(origins: readonly string[], logs: readonly (readonly ExportCheck[])[]): ExportReport {
  const duplicate = origins.find((origin, i) => origins.indexOf(origin) !== i);
  const checks: ExportCheck[] = [
    origins.length === 0
      ? { name: 'export: logs', ok: false, detail: 'the export holds no log, so there is nothing to verify' }
      : duplicate !== undefined
        ? { name: 'export: logs', ok: false, detail: `log ${duplicate} appears more than once` }
        : { name: 'export: logs', ok: true, detail: `${origins.length} log${origins.length === 1 ? '' : 's'}` },
  ];
  for (const log of logs) checks.push(...log);
  return { ok: checks.every((check) => check.ok), checks };
}

const MAX_LISTED = 3;

/** Collects problems for one check; the detail lists the first few and how many more. */
class Findings {
  readonly #listed: string[] = [];
  #count = 0;
  get count(): number {
    return this.#count;
  }
  add(problem: string): void {
    if (this.#listed.length < MAX_LISTED) this.#listed.push(problem);
    this.#count++;
  }
  check(name: string, passed: string): ExportCheck {
    if (this.#count === 0) return { name, ok: true, detail: passed };
    const more = this.#count - MAX_LISTED;
    return { name, ok: false, detail: this.#listed.join('; ') + (more > 0 ? `; and ${more} more` : '') };
  }
}

/**
 * Checks one log of an export, fed in the order the export lists it: the origin and key
 * (constructor), every entry, every checkpoint, then `checkpointsDone`, every inclusion
 * proof, every consistency proof, and `finish` for the checks. It keeps the Merkle tree of
 * the entries' leaf hashes, not the entries or the inclusion proofs, so that an export can
 * be checked as it is read, whatever its size (`naos verify`).
 */
export class LogVerifier {
  readonly #origin: string;
  readonly #author: string | undefined;
  readonly #keyCheck: ExportCheck;
  readonly #verifier: NoteVerifier | undefined;
  #phase: VerifierPhase = 'entries';

  // Entries: their count, and their leaf hashes in a tree (an unreadable entry's as zeros:
  // only roots of the readable prefix are compared, and its inclusion is not checked).
  readonly #entryFindings = new Findings();
  #entries = 0;
  #previousTime: Hlc | undefined;
  readonly #unreadable = new Set<number>();
  #firstUnreadable = -1;
  readonly #tree = new MerkleTree();

  // Checkpoints, and the roots of those whose signature verified.
  readonly #checkpoints: StoredCheckpoint[] = [];
  readonly #signedRoots = new Map<number, Uint8Array>();
  #latest: StoredCheckpoint | undefined;
  #latestRoot: Uint8Array | undefined;
  #checkpointChecks: ExportCheck[] = [];

  // Inclusion proofs: which entries have one (the first one given counts) and what was wrong with it.
  readonly #inclusionFindings = new Findings();
  #proven = new Uint8Array(0);
  readonly #inclusionProblems = new Map<number, string>();
  /** Indices of proofs for entries the export does not hold. */
  readonly #extraProofs = new Set<number>();

  readonly #consistency: ConsistencyRecord[] = [];

  constructor(origin: string, verifierKey: string) {
    this.#origin = origin;
    this.#author = nodeIdOfOrigin(origin);
    // 1. The verifier key parses and belongs to the node the origin names.
    const findings = new Findings();
    let verifier: NoteVerifier | undefined;
    try {
      verifier = parseVerifierKey(verifierKey);
      if (verifier.name !== origin) findings.add(`the key is named ${JSON.stringify(verifier.name)}, not the log's origin`);
      if (this.#author === undefined) findings.add(`origin ${JSON.stringify(origin)} does not name a node (want naos/<node id>)`);
      else if (nodeIdFromPublicKey(verifier.publicKey) !== this.#author) {
        findings.add(`the key belongs to node ${nodeIdFromPublicKey(verifier.publicKey)}, but the origin names node ${this.#author}`);
      }
    } catch (error) {
      if (!(error instanceof NoteFormatError) && !(error instanceof InvalidInputError)) throw error;
      findings.add(`verifier key is malformed: ${error.message}`);
    }
    this.#verifier = findings.count > 0 ? undefined : verifier;
    this.#keyCheck = findings.check(this.#name('verifier key'), `${verifierKey} is the key of node ${this.#author ?? '?'}`);
  }

  /** 4. Every entry is canonical DAG-CBOR, written by the log's author at its own position, each dated after the one before it. */
  entry(text: string): void {
    this.#expect('entries', 'an entry');
    const index = this.#entries++;
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(text, `entry ${index}`);
    } catch (error) {
      this.#entryFindings.add((error as Error).message);
      this.#unreadable.add(index);
      if (this.#firstUnreadable < 0) this.#firstUnreadable = index;
      this.#tree.appendLeafHash(NO_HASH);
      return;
    }
    try {
      const entry = decodeEntry(bytes);
      if (entry.seq !== index) this.#entryFindings.add(`entry ${index}: seq is ${entry.seq}`);
      if (entry.author !== this.#author) {
        this.#entryFindings.add(`entry ${index}: author is ${entry.author}, not ${this.#author ?? 'the origin node'}`);
      }
      const regression = timeRegression(index, entry.time, this.#previousTime);
      if (regression) this.#entryFindings.add(regression);
      this.#previousTime = entry.time;
    } catch (error) {
      if (!(error instanceof EntryDecodeError)) throw error;
      this.#entryFindings.add(`entry ${index}: ${error.message}`);
    }
    this.#tree.appendLeafHash(leafHash(bytes));
  }

  checkpoint(checkpoint: StoredCheckpoint): void {
    if (this.#phase === 'entries') this.#phase = 'checkpoints';
    this.#expect('checkpoints', 'a checkpoint');
    this.#checkpoints.push({ size: checkpoint.size, note: checkpoint.note });
  }

  /** After the last checkpoint: checks their signatures, sizes and roots. */
  async checkpointsDone(): Promise<void> {
    if (this.#phase === 'entries') this.#phase = 'checkpoints';
    this.#expect('checkpoints', 'the end of the checkpoints');
    this.#phase = 'proofs';
    const checkpoints = this.#checkpoints;

    // 2. Every checkpoint note is signed by that key (C2SP signed-note rules) and states its size.
    const signatureFindings = new Findings();
    for (const checkpoint of checkpoints) {
      if (!this.#verifier) {
        signatureFindings.add(`checkpoint ${checkpoint.size}: not checked, the log has no valid verifier key`);
        continue;
      }
      try {
        const opened = await openCheckpoint(checkpoint.note, this.#verifier);
        if (opened.size !== checkpoint.size)
          signatureFindings.add(`checkpoint ${checkpoint.size}: the signed note says size ${opened.size}`);
        else this.#signedRoots.set(checkpoint.size, opened.root);
      } catch (error) {
        if (!(error instanceof NoteFormatError || error instanceof NoteVerificationError || error instanceof CheckpointFormatError)) {
          throw error;
        }
        signatureFindings.add(`checkpoint ${checkpoint.size}: ${error.message}`);
      }
    }
    if (checkpoints.length === 0) signatureFindings.add('the log has no checkpoint');

    // 3. Checkpoint sizes strictly increase.
    const sizeFindings = new Findings();
    for (const [i, checkpoint] of checkpoints.entries()) {
      const previous = checkpoints[i - 1];
      if (previous && checkpoint.size <= previous.size) {
        sizeFindings.add(`checkpoint ${i} (size ${checkpoint.size}) does not follow size ${previous.size}`);
      }
    }
    const sizes = checkpoints.map((c) => c.size);

    // 5. The root recomputed from the entries equals the signed root at every checkpoint.
    const rootFindings = new Findings();
    for (const checkpoint of checkpoints) {
      const signed = this.#signedRoots.get(checkpoint.size);
      if (!signed) rootFindings.add(`checkpoint ${checkpoint.size}: no signed root to compare (its signature did not verify)`);
      else if (checkpoint.size > this.#entries) {
        rootFindings.add(`checkpoint ${checkpoint.size} covers ${checkpoint.size} entries, but the export holds ${this.#entries}`);
      } else if (this.#firstUnreadable >= 0 && checkpoint.size > this.#firstUnreadable) {
        rootFindings.add(`checkpoint ${checkpoint.size}: entry ${this.#firstUnreadable} is unreadable`);
      } else {
        const computed = this.#tree.root(checkpoint.size);
        if (toHex(computed) !== toHex(signed)) {
          rootFindings.add(`checkpoint ${checkpoint.size}: entries give root ${toHex(computed)}, signed root is ${toHex(signed)}`);
        }
      }
    }
    this.#latest = checkpoints[checkpoints.length - 1];
    this.#latestRoot = this.#latest && this.#signedRoots.get(this.#latest.size);
    this.#proven = new Uint8Array(this.#entries);

    this.#checkpointChecks = [
      signatureFindings.check(this.#name('checkpoint signatures'), `${checkpoints.length} checkpoint notes signed by ${this.#origin}`),
      sizeFindings.check(
        this.#name('checkpoint sizes'),
        sizes.length <= 6
          ? `sizes ${sizes.join(' < ')}`
          : `${sizes.length} sizes increasing from ${sizes[0]} to ${sizes[sizes.length - 1]}`,
      ),
      this.#entryFindings.check(
        this.#name('entries'),
        `${this.#entries} entries, canonical, by ${this.#author ?? '?'} in sequence, times rising`,
      ),
      rootFindings.check(this.#name('checkpoint roots'), `the entries give the signed root at all ${checkpoints.length} checkpoints`),
    ];
  }

  /** 6. Every entry's inclusion proof verifies against the latest signed root (the first proof given for an entry counts). */
  inclusion(record: InclusionRecord): void {
    this.#expect('proofs', 'an inclusion proof');
    const { index } = record;
    const held = index < this.#entries;
    if (held && this.#proven[index] === 1) this.#inclusionFindings.add(`entry ${index} has more than one inclusion proof`);
    if (!held) {
      // Only the first of several proofs for an entry the export does not hold is not a duplicate.
      if (this.#extraProofs.has(index)) this.#inclusionFindings.add(`entry ${index} has more than one inclusion proof`);
      this.#extraProofs.add(index);
      this.#inclusionFindings.add(`inclusion proof for entry ${index}, which the export does not hold`);
      return;
    }
    if (this.#proven[index] === 1) return;
    this.#proven[index] = 1;
    const latest = this.#latest;
    const latestRoot = this.#latestRoot;
    if (!latest || !latestRoot) return;
    let problem: string | undefined;
    if (record.size !== latest.size) problem = `entry ${index}: proof is for size ${record.size}, not the latest ${latest.size}`;
    else if (this.#unreadable.has(index)) problem = `entry ${index} is unreadable`;
    else {
      try {
        verifyInclusion(index, record.size, this.#tree.leafHash(index), decodeHashes(record.proof, `entry ${index} proof`), latestRoot);
      } catch (error) {
        if (!(error instanceof ProofVerificationError || error instanceof InvalidInputError)) throw error;
        problem = `entry ${index}: ${error.message}`;
      }
    }
    if (problem !== undefined) this.#inclusionProblems.set(index, problem);
  }
  consistency(record: ConsistencyRecord): void {
    this.#expect('proofs', 'a consistency proof');
    this.#consistency.push(record);
  }

  /** Every check of the log, in order: key, signatures, sizes, entries, roots, inclusion, consistency, seal. */
  finish(): ExportCheck[] {
    this.#expect('proofs', 'the end of the log');
    this.#phase = 'finished';
    const latest = this.#latest;
    const latestRoot = this.#latestRoot;
    if (!latest || !latestRoot) this.#inclusionFindings.add('no signed latest checkpoint to prove inclusion against');
    else {
      for (let index = 0; index < this.#entries; index++) {
        if (this.#proven[index] !== 1) this.#inclusionFindings.add(`entry ${index} has no inclusion proof`);
        else {
          const problem = this.#inclusionProblems.get(index);
          if (problem !== undefined) this.#inclusionFindings.add(problem);
        }
      }
    }
    const inclusionCheck = this.#inclusionFindings.check(
      this.#name('inclusion proofs'),
      `all ${this.#entries} entries proven in the tree of size ${latest?.size ?? 0}`,
    );

    // 7. Each successive pair of checkpoints (from a non-empty one) is linked by a consistency proof.
    const consistencyFindings = new Findings();
    const pending = [...this.#consistency];
    let linked = 0;
    for (const [i, checkpoint] of this.#checkpoints.entries()) {
      const previous = this.#checkpoints[i - 1];
      if (!previous || previous.size === 0) continue;
      const span = `${previous.size} → ${checkpoint.size}`;
      const at = pending.findIndex((r) => r.size1 === previous.size && r.size2 === checkpoint.size);
      if (at < 0) {
        consistencyFindings.add(`no consistency proof for ${span}`);
        continue;
      }
      const [record] = pending.splice(at, 1);
      const root1 = this.#signedRoots.get(previous.size);
      const root2 = this.#signedRoots.get(checkpoint.size);
      if (!root1 || !root2) {
        consistencyFindings.add(`${span}: not checked, a checkpoint's signature did not verify`);
        continue;
      }
      try {
        verifyConsistency(previous.size, checkpoint.size, root1, root2, decodeHashes(record!.proof, `proof ${span}`));
        linked++;
      } catch (error) {
        if (!(error instanceof ProofVerificationError || error instanceof InvalidInputError)) throw error;
        consistencyFindings.add(`${span}: ${error.message}`);
      }
    }
    for (const extra of pending) consistencyFindings.add(`proof ${extra.size1} → ${extra.size2} does not link two successive checkpoints`);

    // 8. The seal: the latest signed checkpoint covers every entry in the export.
    const sealFindings = new Findings();
    if (!latest || !latestRoot) sealFindings.add('the latest checkpoint is missing or its signature did not verify');
    else if (latest.size !== this.#entries) {
      sealFindings.add(`the latest signed checkpoint covers ${latest.size} entries, but the export holds ${this.#entries}`);
    }
    return [
      this.#keyCheck,
      ...this.#checkpointChecks,
      inclusionCheck,
      consistencyFindings.check(
        this.#name('consistency proofs'),
        linked === 0
          ? 'no two non-empty checkpoints to link'
          : `${linked} proof${linked === 1 ? '' : 's'} link every checkpoint to the next`,
      ),
      sealFindings.check(this.#name('seal'), `the latest signed checkpoint covers all ${this.#entries} entries`),
    ];
  }

  #name(what: string): string {
    return `${this.#origin}: ${what}`;
  }

  /** A feeder that breaks the order is a bug in the caller, not bad input. */
  #expect(phase: VerifierPhase, what: string): void {
    if (this.#phase !== phase) throw new Error(`LogVerifier of ${this.#origin}: ${what} came during the ${this.#phase} phase`);
  }
}

type VerifierPhase = 'entries' | 'checkpoints' | 'proofs' | 'finished';

const NO_HASH = new Uint8Array(32);

function decodeHashes(proof: readonly string[], what: string): Uint8Array[] {
  return proof.map((hash, i) => fromHex(hash, `${what}[${i}]`));
}
