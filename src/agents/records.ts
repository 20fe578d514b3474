import type { JsonValue } from '../ledger/json-value.js';
import { isNodeId } from '../identity/node-id.js';
import type { BlobChunk } from './content.js';
import { isAgentId } from './ids.js';
import { isRight, type Right } from './rights.js';

/**
 * The ledger entries of the agent layer (docs/AGENTS.md lists them with their fields).
 * All are written to the writing node's own log and replicate by the normal sync; every
 * node derives the same registry from them (agent-ledger.ts). A payload that does not
 * parse is ignored by the derivation (and counted), never trusted.
 */
export const KINDS = {
  chunk: 'blob.chunk',
  register: 'policy.register',
  grant: 'policy.grant',
  revoke: 'policy.revoke',
  spawn: 'agent.spawn',
  step: 'agent.step',
  refusal: 'agent.refusal',
  rollback: 'agent.rollback',
  data: 'agent.data',
  send: 'agent.send',
  proposal: 'agent.proposal',
  import: 'agent.import',
  migrate: 'agent.migrate',
  resume: 'agent.resume',
  fault: 'agent.fault',
  report: 'health.report',
  alert: 'health.alert',
  publish: 'module.publish',
  install: 'module.install',
  uninstall: 'module.uninstall',
} as const;

export const AGENT_KINDS: ReadonlySet<string> = new Set(Object.values(KINDS));

export interface RegisterRecord {
  readonly agent: string;
  readonly program: string;
  readonly rights: readonly Right[];
  readonly duties: readonly string[];
  /** The agent that spawned this one, if any. */
  readonly parent: string | null;
}
export interface PolicyChangeRecord {
  readonly agent: string;
  readonly rights: readonly Right[];
}
export interface SpawnRecord {
  readonly agent: string;
  readonly program: string;
  readonly state: JsonValue;
  readonly stateHash: string;
}
export interface StepRecord {
  readonly agent: string;
  readonly epoch: number;
  readonly step: number;
  readonly message: JsonValue;
  readonly prevHash: string;
  readonly state: JsonValue;
  readonly stateHash: string;
  readonly effects: readonly JsonValue[];
  /** Modules the step ran with: name → CID. */
  readonly modules: Readonly<Record<string, string>>;
  /** Entry id of the agent.send whose message this step handled (absent for outside messages). */
  readonly cause?: string;
}
export interface RefusalRecord {
  readonly agent: string;
  readonly step: number;
  readonly effect: string;
  readonly right: string | null;
  readonly reason: string;
}
export interface RollbackRecord {
  readonly agent: string;
  readonly step: number;
  readonly fault: { readonly kind: string; readonly message: string };
  readonly restoredHash: string;
  readonly committedHash: string;
  /** As in StepRecord: the agent.send whose delivery faulted. */
  readonly cause?: string;
}
export interface SendRecord {
  readonly from: string;
  readonly to: string;
  readonly step: number;
  readonly message: JsonValue;
  /** Sends in the chain that led to this one (the hop limit counts them). */
  readonly hops: number;
}
export interface MigrateRecord {
  readonly agent: string;
  /** The hosting epoch this hand-over ends; the target hosts epoch + 1. */
  readonly epoch: number;
  readonly from: string;
  readonly to: string;
  readonly step: number;
  readonly stateHash: string;
  readonly passport: JsonValue;
}
export interface ResumeRecord {
  readonly agent: string;
  readonly epoch: number;
  readonly from: string;
  readonly step: number;
  readonly stateHash: string;
}
export interface FaultRecord {
  readonly agent: string;
  readonly step: number;
  /** The node whose recorded step did not replay. */
  readonly node: string;
  readonly expected: string;
  readonly got: string;
  readonly reason: string;
}
export interface PublishRecord {
  readonly name: string;
  readonly version: string;
  readonly cid: string;
  readonly kind: 'js' | 'wasm';
  readonly size: number;
}
export interface InstallRecord {
  readonly name: string;
  readonly version: string;
  readonly cid: string;
}

type Obj = Record<string, unknown>;

const HASH = /^[0-9a-f]{64}$/;
const MODULE_NAME = /^[a-z][a-z0-9._-]{0,63}$/;
const VERSION = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/;

export function isModuleName(value: unknown): value is string {
  return typeof value === 'string' && MODULE_NAME.test(value);
}
export function isVersion(value: unknown): value is string {
  return typeof value === 'string' && VERSION.test(value);
}
/** Semantic-version order of `major.minor.patch`. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  return pa[0]! - pb[0]! || pa[1]! - pb[1]! || pa[2]! - pb[2]!;
}

const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const hash = (v: unknown): v is string => typeof v === 'string' && HASH.test(v);
const str = (v: unknown, max = 1000): v is string => typeof v === 'string' && v.length <= max;
const cidText = (v: unknown): v is string => typeof v === 'string' && /^b[a-z2-7]{20,120}$/.test(v);
/** An entry id (CIDv1 dag-cbor, base32). */
const entryIdText = cidText;
const rights = (v: unknown): v is Right[] => Array.isArray(v) && v.every(isRight);
const duties = (v: unknown): v is string[] => Array.isArray(v) && v.every((d) => str(d, 63));

export function parseChunk(p: unknown): BlobChunk | undefined {
  const o = obj(p);
  if (!o || !cidText(o['cid']) || !count(o['index']) || !count(o['count']) || !count(o['size']) || typeof o['data'] !== 'string')
    return undefined;
  if (o['index'] >= o['count']) return undefined;
  return { cid: o['cid'], index: o['index'], count: o['count'], size: o['size'], data: o['data'] };
}
export function parseRegister(p: unknown): RegisterRecord | undefined {
  const o = obj(p);
  if (!o || !isAgentId(o['agent']) || !cidText(o['program']) || !rights(o['rights']) || !duties(o['duties'])) return undefined;
  const parent = o['parent'] ?? null;
  if (parent !== null && !isAgentId(parent)) return undefined;
  return { agent: o['agent'], program: o['program'], rights: o['rights'], duties: o['duties'], parent };
}
export function parsePolicyChange(p: unknown): PolicyChangeRecord | undefined {
  const o = obj(p);
  if (!o || !isAgentId(o['agent']) || !rights(o['rights'])) return undefined;
  return { agent: o['agent'], rights: o['rights'] };
}
export function parseSpawn(p: unknown): SpawnRecord | undefined {
  const o = obj(p);
  if (!o || !isAgentId(o['agent']) || !cidText(o['program']) || !hash(o['stateHash']) || !('state' in o)) return undefined;
  return { agent: o['agent'], program: o['program'], state: o['state'] as JsonValue, stateHash: o['stateHash'] };
}
export function parseStep(p: unknown): StepRecord | undefined {
  const o = obj(p);
  if (!o || !isAgentId(o['agent']) || !count(o['epoch']) || !count(o['step']) || o['step'] < 1) return undefined;
  if (!hash(o['prevHash']) || !hash(o['stateHash']) || !('state' in o) || !('message' in o) || !Array.isArray(o['effects']))
    return undefined;
  const modules = obj(o['modules']);
  if (!modules || !Object.entries(modules).every(([name, cid]) => isModuleName(name) && cidText(cid))) return undefined;
  const cause = o['cause'];
  if (cause !== undefined && !entryIdText(cause)) return undefined;
  return {
    ...(cause === undefined ? {} : { cause }),
    agent: o['agent'],
    epoch: o['epoch'],
    step: o['step'],
    message: o['message'] as JsonValue,
    prevHash: o['prevHash'],
    state: o['state'] as JsonValue,
    stateHash: o['stateHash'],
    effects: o['effects'] as JsonValue[],
    modules: modules as Record<string, string>,
  };
}
export function parseRefusal(p: unknown): RefusalRecord | undefined {
  const o = obj(p);
  if (!o || !isAgentId(o['agent']) || !count(o['step']) || !str(o['effect'], 64) || !str(o['reason'])) return undefined;
  const right = o['right'] ?? null;
  if (right !== null && !str(right, 64)) return undefined;
  return { agent: o['agent'], step: o['step'], effect: o['effect'], right, reason: o['reason'] };
}
export function parseRollback(p: unknown): RollbackRecord | undefined {
  const o = obj(p);
  const fault = obj(o?.['fault']);
  if (!o || !fault || !isAgentId(o['agent']) || !count(o['step']) || !hash(o['restoredHash']) || !hash(o['committedHash']))
    return undefined;
  if (!str(fault['kind'], 32) || !str(fault['message'])) return undefined;
  const cause = o['cause'];
  if (cause !== undefined && !entryIdText(cause)) return undefined;
  return {
    ...(cause === undefined ? {} : { cause }),
    agent: o['agent'],
    step: o['step'],
    fault: { kind: fault['kind'], message: fault['message'] },
    restoredHash: o['restoredHash'],
    committedHash: o['committedHash'],
  };
}
export function parseSend(p: unknown): SendRecord | undefined {
  const o = obj(p);
  if (!o || !isAgentId(o['from']) || !isAgentId(o['to']) || !count(o['step']) || !('message' in o)) return undefined;
  const hops = o['hops'] ?? 1;
  if (!count(hops)) return undefined;
  return { from: o['from'], to: o['to'], step: o['step'], message: o['message'] as JsonValue, hops };
}
export function parseMigrate(p: unknown): MigrateRecord | undefined {
  const o = obj(p);
  if (!o || !isAgentId(o['agent']) || !count(o['epoch']) || !isNodeId(o['from']) || !isNodeId(o['to']) || !count(o['step']))
    return undefined;
  if (!hash(o['stateHash']) || !obj(o['passport'])) return undefined;
  return {
    agent: o['agent'],
    epoch: o['epoch'],
    from: o['from'],
    to: o['to'],
    step: o['step'],
    stateHash: o['stateHash'],
    passport: o['passport'] as JsonValue,
  };
}
export function parseResume(p: unknown): ResumeRecord | undefined {
  const o = obj(p);
  if (!o || !isAgentId(o['agent']) || !count(o['epoch']) || !isNodeId(o['from']) || !count(o['step']) || !hash(o['stateHash']))
    return undefined;
  return { agent: o['agent'], epoch: o['epoch'], from: o['from'], step: o['step'], stateHash: o['stateHash'] };
}
export function parseFault(p: unknown): FaultRecord | undefined {
  const o = obj(p);
  if (
    !o ||
    !isAgentId(o['agent']) ||
    !count(o['step']) ||
    !isNodeId(o['node']) ||
    !str(o['expected']) ||
    !str(o['got']) ||
    !str(o['reason'])
  )
    return undefined;
  return { agent: o['agent'], step: o['step'], node: o['node'], expected: o['expected'], got: o['got'], reason: o['reason'] };
}
export function parsePublish(p: unknown): PublishRecord | undefined {
  const o = obj(p);
  if (!o || !isModuleName(o['name']) || !isVersion(o['version']) || !cidText(o['cid']) || !count(o['size'])) return undefined;
  if (o['kind'] !== 'js' && o['kind'] !== 'wasm') return undefined;
  return { name: o['name'], version: o['version'], cid: o['cid'], kind: o['kind'], size: o['size'] };
}
export function parseInstall(p: unknown): InstallRecord | undefined {
  const o = obj(p);
  if (!o || !isModuleName(o['name']) || !isVersion(o['version']) || !cidText(o['cid'])) return undefined;
  return { name: o['name'], version: o['version'], cid: o['cid'] };
}
export function parseUninstall(p: unknown): { name: string } | undefined {
  const o = obj(p);
  return o && isModuleName(o['name']) ? { name: o['name'] } : undefined;
}
/** `{agent, step}` of any per-agent record (data, send, proposal, import, report, alert). */
export function agentOf(p: unknown): { agent: string; step: number } | undefined {
  const o = obj(p);
  const agent = o?.['agent'] ?? o?.['from'];
  return o && isAgentId(agent) && count(o['step']) ? { agent, step: o['step'] } : undefined;
}
