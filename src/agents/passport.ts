import { fromBase64, fromHex, toBase64 } from '../bytes.js';
import { nodeIdFromPublicKey, nodeIdOfOrigin } from '../identity/node-id.js';
import { openCheckpoint } from '../ledger/checkpoint.js';
import { decodeEntry } from '../ledger/entry.js';
import type { JsonValue } from '../ledger/json-value.js';
import { parseVerifierKey } from '../ledger/note.js';
import { leafHash } from '../merkle/hash.js';
import { verifyInclusion } from '../merkle/verify.js';
import { PassportError } from './errors.js';
import { isAgentId } from './ids.js';
import { KINDS, parsePolicyChange, parseRegister } from './records.js';
import type { Right } from './rights.js';

/**
 * A passport (F15): an agent's identity plus its policy entries — the registration and
 * every grant and revocation in the registrar's log up to a signed checkpoint — each with
 * an RFC 9162 inclusion proof against that checkpoint. Any node verifies it offline, with
 * nothing but the passport: the verifier key names the registrar (its hash is the node
 * id in the origin), the checkpoint is signed by it, every entry is in the tree.
 *
 * What it cannot prove is absence: a revocation written after the checkpoint. A node that
 * holds the registrar's log checks its own PolicyLedger as well (AgentHost does).
 */
export interface Passport {
  readonly v: 1;
  readonly agent: string;
  /** The registrar's log origin, `naos/<node id>`. */
  readonly origin: string;
  readonly verifierKey: string;
  /** C2SP signed checkpoint of the registrar's log. */
  readonly checkpoint: string;
  readonly entries: readonly PassportEntry[];
}

export interface PassportEntry {
  readonly index: number;
  /** Entry bytes (DAG-CBOR), base64. */
  readonly bytes: string;
  /** Inclusion proof against the checkpoint's root, hex hashes. */
  readonly proof: readonly string[];
}

/** What a verified passport says. */
export interface PassportView {
  readonly agent: string;
  readonly registrar: string;
  readonly program: string;
  readonly rights: readonly Right[];
  readonly duties: readonly string[];
  readonly parent: string | null;
  /** Size of the registrar's log at the checkpoint the proofs are against. */
  readonly size: number;
}

export function passportToJson(passport: Passport): JsonValue {
  return {
    v: passport.v,
    agent: passport.agent,
    origin: passport.origin,
    verifierKey: passport.verifierKey,
    checkpoint: passport.checkpoint,
    entries: passport.entries.map((e) => ({ index: e.index, bytes: e.bytes, proof: [...e.proof] })),
  };
}

export function encodePassportEntry(index: number, bytes: Uint8Array, proof: readonly string[]): PassportEntry {
  return { index, bytes: toBase64(bytes), proof };
}

/** Verifies a passport offline; throws PassportError naming the first check that fails. */
export async function verifyPassport(value: unknown): Promise<PassportView> {
  const fail = (why: string, cause?: unknown): never => {
    throw new PassportError(`passport refused: ${why}`, cause === undefined ? undefined : { cause });
  };
  const p = value as Partial<Passport> | null;
  if (typeof p !== 'object' || p === null || p.v !== 1) fail('not a passport (v must be 1)');
  const passport = p as Passport;
  if (!isAgentId(passport.agent)) fail(`bad agent id ${JSON.stringify(passport.agent)}`);
  const registrar = typeof passport.origin === 'string' ? nodeIdOfOrigin(passport.origin) : undefined;
  if (!registrar) return fail(`origin ${JSON.stringify(passport.origin)} is not a node log`);
  let checkpoint: { size: number; root: Uint8Array; origin: string };
  try {
    const verifier = parseVerifierKey(passport.verifierKey);
    if (verifier.name !== passport.origin) fail(`verifier key is for ${verifier.name}, not ${passport.origin}`);
    if (nodeIdFromPublicKey(verifier.publicKey) !== registrar) fail('the verifier key is not the key of the origin node');
    checkpoint = await openCheckpoint(passport.checkpoint, verifier);
  } catch (error) {
    if (error instanceof PassportError) throw error;
    return fail(`checkpoint does not verify: ${(error as Error).message}`, error);
  }
  if (checkpoint.origin !== passport.origin) fail(`checkpoint is of ${checkpoint.origin}, not ${passport.origin}`);
  if (!Array.isArray(passport.entries) || passport.entries.length === 0) fail('no policy entries');
  let register: ReturnType<typeof parseRegister>;
  const rights = new Set<Right>();
  let last = -1;
  for (const [i, item] of passport.entries.entries()) {
    const where = `entry ${i}`;
    if (!Number.isSafeInteger(item.index) || item.index <= last || item.index >= checkpoint.size) {
      fail(`${where}: index ${item.index} is not ascending within the checkpoint's ${checkpoint.size} entries`);
    }
    last = item.index;
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(item.bytes, `${where} bytes`);
      verifyInclusion(
        item.index,
        checkpoint.size,
        leafHash(bytes),
        item.proof.map((h, j) => fromHex(h, `${where} proof[${j}]`)),
        checkpoint.root,
      );
    } catch (error) {
      return fail(`${where}: not included in the signed checkpoint: ${(error as Error).message}`, error);
    }
    let entry: ReturnType<typeof decodeEntry>;
    try {
      entry = decodeEntry(bytes);
    } catch (error) {
      return fail(`${where}: not a valid entry: ${(error as Error).message}`, error);
    }
    if (entry.author !== registrar || entry.seq !== item.index)
      fail(`${where}: written by ${entry.author} at ${entry.seq}, not the registrar's`);
    if (entry.kind === KINDS.register) {
      if (register) fail(`${where}: a second registration`);
      register = parseRegister(entry.payload);
      if (!register || register.agent !== passport.agent) fail(`${where}: the registration is not of ${passport.agent}`);
      for (const right of register!.rights) rights.add(right);
    } else if (entry.kind === KINDS.grant || entry.kind === KINDS.revoke) {
      if (!register) fail(`${where}: a policy change before the registration`);
      const change = parsePolicyChange(entry.payload);
      if (!change || change.agent !== passport.agent) fail(`${where}: the policy change is not of ${passport.agent}`);
      for (const right of change!.rights) {
        if (entry.kind === KINDS.grant) rights.add(right);
        else rights.delete(right);
      }
    } else {
      fail(`${where}: kind ${entry.kind} is not a policy entry`);
    }
  }
  if (!register) return fail('no registration entry');
  return {
    agent: passport.agent,
    registrar,
    program: register.program,
    rights: [...rights].sort(),
    duties: register.duties,
    parent: register.parent,
    size: checkpoint.size,
  };
}
