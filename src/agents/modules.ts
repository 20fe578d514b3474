import { fromUtf8, utf8 } from '../bytes.js';
import { InvalidInputError } from '../errors.js';
import type { Kernel } from '../kernel/kernel.js';
import type { AgentLedger, ModuleVersion } from './agent-ledger.js';
import { blobCid, chunkBlob, parseBlobCid, verifyBlob } from './content.js';
import { ContentUnavailableError, ModuleError } from './errors.js';
import { compareVersions, isModuleName, isVersion, KINDS } from './records.js';

export type ModuleKind = 'js' | 'wasm';

export interface LoadedModule {
  readonly name: string;
  readonly version: string;
  readonly cid: string;
  readonly kind: ModuleKind;
  /** The verified bytes (UTF-8 source for `js`). */
  readonly bytes: Uint8Array;
}

export interface VersionCheck {
  readonly name: string;
  /** Installed here (module.install in this node's log), or null. */
  readonly installed: string | null;
  readonly latest: string | null;
  readonly upToDate: boolean;
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/**
 * Runtime modules (F19): `import(name, cid)` loads a JS or WASM module by CID, from the
 * blob chunks this node holds — its own or replicated from the publisher's log by the
 * normal sync — and verifies the hash before handing out a byte. A versioned registry
 * (name → versions → CID) is derived from `module.publish` entries in every log; what
 * this node has installed is its own `module.install` / `module.uninstall` entries.
 */
export class ModuleRegistry {
  readonly #kernel: Kernel;
  readonly #ledger: AgentLedger;

  constructor(kernel: Kernel, ledger: AgentLedger) {
    this.#kernel = kernel;
    this.#ledger = ledger;
  }

  /** Publishes a version: its bytes as blob chunks (if not held yet) and a module.publish entry, in one batch. */
  async publish(name: string, version: string, content: string | Uint8Array, kind: ModuleKind): Promise<ModuleVersion> {
    if (!isModuleName(name)) throw new InvalidInputError(`module name must match [a-z][a-z0-9._-]{0,63}, got ${JSON.stringify(name)}`);
    if (!isVersion(version)) throw new InvalidInputError(`module version must be major.minor.patch, got ${JSON.stringify(version)}`);
    if (kind !== 'js' && kind !== 'wasm') throw new InvalidInputError(`module kind must be js or wasm, got ${JSON.stringify(kind)}`);
    const bytes = typeof content === 'string' ? utf8(content) : content;
    if (!(bytes instanceof Uint8Array)) throw new InvalidInputError('module content must be a string or bytes');
    if (kind === 'wasm' && !WASM_MAGIC.every((b, i) => bytes[i] === b))
      throw new ModuleError('a wasm module must start with the WebAssembly magic and version 1');
    if (kind === 'js') fromUtf8(bytes, 'module source');
    const existing = this.#ledger.moduleVersions(name).find((v) => v.version === version);
    if (existing) throw new ModuleError(`${name}@${version} is already published (as ${existing.cid})`);
    const cid = blobCid(bytes);
    const chunks = this.#ledger.hasBlob(cid) ? [] : chunkBlob(bytes).map((chunk) => ({ kind: KINDS.chunk, value: { ...chunk } }));
    await this.#kernel.appendEntries([...chunks, { kind: KINDS.publish, value: { name, version, cid, kind, size: bytes.length } }]);
    return { name, version, cid, kind, size: bytes.length, publisher: this.#kernel.nodeId };
  }

  versions(name: string): ModuleVersion[] {
    return this.#ledger.moduleVersions(name);
  }

  list(): { name: string; versions: ModuleVersion[]; installed: string | null }[] {
    const installed = this.#ledger.installed(this.#kernel.nodeId);
    return this.#ledger
      .moduleNames()
      .map((name) => ({ name, versions: this.versions(name), installed: installed.get(name)?.version ?? null }));
  }

  /**
   * Loads module `name` at `cid`: the CID must be a published version of that name, its
   * bytes held here, and they must hash to it (ContentHashMismatchError otherwise).
   */
  import(name: string, cid: string): LoadedModule {
    parseBlobCid(cid);
    const version = this.versions(name).find((v) => v.cid === cid);
    if (!version) throw new ModuleError(`${cid} is not a published version of module ${JSON.stringify(name)}`);
    const bytes = this.#ledger.blob(cid);
    if (!bytes)
      throw new ContentUnavailableError(
        `module ${name}@${version.version} (${cid}) is not held yet; it arrives with ${version.publisher}'s log`,
      );
    verifyBlob(cid, bytes);
    return { name, version: version.version, cid, kind: version.kind, bytes };
  }

  /** Installs a version (default: the latest) on this node after loading and verifying it. */
  async pull(name: string, version?: string): Promise<LoadedModule> {
    const versions = this.versions(name);
    const wanted = version === undefined ? versions[versions.length - 1] : versions.find((v) => v.version === version);
    if (!wanted)
      throw new ModuleError(`module ${JSON.stringify(name)} has no ${version === undefined ? 'published version' : `version ${version}`}`);
    const loaded = this.import(name, wanted.cid);
    await this.#kernel.appendEntries([{ kind: KINDS.install, value: { name, version: wanted.version, cid: wanted.cid } }]);
    return loaded;
  }

  /** Pulls the latest version if it is newer than the installed one; returns the check after. */
  async update(name: string): Promise<VersionCheck> {
    const check = this.checkVersion(name);
    if (!check.upToDate && check.latest !== null) await this.pull(name, check.latest);
    return this.checkVersion(name);
  }

  /** Uninstalls a module from this node (its published versions stay in the registry). */
  async remove(name: string): Promise<void> {
    if (!this.#ledger.installed(this.#kernel.nodeId).has(name))
      throw new ModuleError(`module ${JSON.stringify(name)} is not installed here`);
    await this.#kernel.appendEntries([{ kind: KINDS.uninstall, value: { name } }]);
  }

  checkVersion(name: string): VersionCheck {
    const versions = this.versions(name);
    const latest = versions.length > 0 ? versions[versions.length - 1]!.version : null;
    const installed = this.#ledger.installed(this.#kernel.nodeId).get(name)?.version ?? null;
    return { name, installed, latest, upToDate: latest !== null && installed !== null && compareVersions(installed, latest) >= 0 };
  }

  /** The JS source of a module version for the sandbox (verified). */
  source(name: string, cid: string): string {
    const loaded = this.import(name, cid);
    if (loaded.kind !== 'js') throw new ModuleError(`module ${name} is ${loaded.kind}, not js`);
    return fromUtf8(loaded.bytes, `module ${name}`);
  }
}
