import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Signer } from '../../src/crypto/ed25519.js';
import { NaosError } from '../../src/errors.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { type DataDirLock, lockDataDir } from './data-dir-lock.js';
import { KeyFileMissingError, loadKeyFile, loadOrCreateKeyFile } from './key-file.js';
import { LevelLedgerStore } from './level-store.js';

/**
 * Opening a Node-side kernel over a data dir, in one place for the CLI and the always-on
 * peer. A data dir holds:
 *
 *   node.key   the node's Ed25519 key, PKCS#8 PEM, mode 0600
 *   lock       pid of the process that has the dir open
 *   ledger/    the LevelDB database of every log the node holds
 */
export const DATA_DIR_FILES = { key: 'node.key', lock: 'lock', ledger: 'ledger' } as const;

/** The data dir has no node in it yet (and create was not asked for). */
export class DataDirNotInitialisedError extends NaosError {
  constructor(readonly dataDir: string) {
    super(`no Naos node in ${dataDir} (no ${DATA_DIR_FILES.key}); create one with: naos ledger init --data ${dataDir}`);
  }
}

export interface NodeKernelOptions {
  /** Create the dir, key and log if missing (what `naos ledger init` does). */
  readonly create?: boolean;
  /** Wall clock for entry timestamps; Date.now unless given. */
  readonly now?: () => number;
  /** fsync each append (default true). */
  readonly sync?: boolean;
  readonly maxBatch?: number;
  /** Own appends right after open wait to hear from a peer until this settles (KernelOptions.awaitPeersUntil). */
  readonly awaitPeersUntil?: Promise<unknown>;
}

export interface NodeKernel {
  readonly kernel: Kernel;
  readonly dataDir: string;
  readonly keyFile: string;
  /** The node key (it signs the log; the always-on peer also signs sync messages and handshakes with it). */
  readonly signer: Signer;
  /** True if this open created the node's key (a new identity). */
  readonly created: boolean;
  /** Closes the kernel and its store, then releases the data dir lock. */
  close(): Promise<void>;
}

export async function openNodeKernel(dataDir: string, options: NodeKernelOptions = {}): Promise<NodeKernel> {
  const dir = resolve(dataDir);
  const keyFile = join(dir, DATA_DIR_FILES.key);
  const ledgerDir = join(dir, DATA_DIR_FILES.ledger);
  if (options.create) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } else if (!(await exists(keyFile))) {
    if (await exists(ledgerDir)) throw missingKey(keyFile);
    throw new DataDirNotInitialisedError(dir);
  }

  const lock: DataDirLock = await lockDataDir(join(dir, DATA_DIR_FILES.lock));
  let store: LevelLedgerStore | undefined;
  try {
    store = await LevelLedgerStore.open(ledgerDir, options.sync === undefined ? {} : { sync: options.sync });
    // A ledger without its key means the identity was lost; minting a new one here would
    // silently turn the node's own log into a stranger's.
    if (!(await exists(keyFile)) && (await store.listLogs()).length > 0) throw missingKey(keyFile);
    const key = options.create ? await loadOrCreateKeyFile(keyFile) : await loadKeyFile(keyFile);
    const kernel = await Kernel.open({
      store,
      signer: key.signer,
      now: options.now ?? Date.now,
      ...(options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch }),
      ...(options.awaitPeersUntil && { awaitPeersUntil: options.awaitPeersUntil }),
    });
    let closed = false;
    return {
      kernel,
      dataDir: dir,
      keyFile,
      signer: key.signer,
      created: key.created,
      async close() {
        if (closed) return;
        closed = true;
        try {
          await kernel.close();
        } finally {
          await lock.release();
        }
      },
    };
  } catch (error) {
    await store?.close().catch(() => undefined);
    await lock.release();
    throw error;
  }
}

function missingKey(keyFile: string): KeyFileMissingError {
  return new KeyFileMissingError(
    `the data dir has a ledger but no key file ${keyFile}; restore the node's key there ` +
      `(a new key would be a different node and could not sign its log)`,
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
