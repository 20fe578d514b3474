import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLockedError } from '../../adapters/node/data-dir-lock.js';
import { KeyFileFormatError, KeyFileMissingError, KeyFilePermissionError, loadKeyFile } from '../../adapters/node/key-file.js';
import { DATA_DIR_FILES, DataDirNotInitialisedError, openNodeKernel } from '../../adapters/node/node-kernel.js';
import { utf8 } from '../../src/bytes.js';
import { verifyEd25519 } from '../../src/crypto/ed25519.js';
import { nodeIdFromPublicKey } from '../../src/identity/node-id.js';

const root = mkdtempSync(join(tmpdir(), 'naos-node-kernel-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `node-${dirs++}`);
const BIN = fileURLToPath(new URL('../../bin/naos.js', import.meta.url));
const posix = process.platform !== 'win32';

describe('openNodeKernel', () => {
  it('creates key (0600, PKCS#8 PEM), ledger and log, and reopens as the same node', async () => {
    const dir = freshDir();
    const first = await openNodeKernel(dir, { create: true });
    expect(first.created).toBe(true);
    const { nodeId, verifierKey } = first.kernel;
    await first.kernel.append({ hello: 'world' });
    await first.close();

    const keyFile = join(dir, DATA_DIR_FILES.key);
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    if (posix) {
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o077).toBe(0);
    }
    const again = await openNodeKernel(dir);
    expect(again.created).toBe(false);
    expect(again.kernel.nodeId).toBe(nodeId);
    expect(again.kernel.verifierKey).toBe(verifierKey);
    expect(again.kernel.status().state).toBe('ok');
    expect((await again.kernel.entries(0, 1))[0]!.payload).toEqual({ hello: 'world' });
    await again.close();
  });

  it('passes awaitPeersUntil to the kernel: after a reopen, own appends wait for a peer or the deadline', async () => {
    const dir = freshDir();
    const first = await openNodeKernel(dir, { create: true });
    await first.kernel.append('before');
    await first.close();
    let deadline!: () => void;
    const node = await openNodeKernel(dir, { awaitPeersUntil: new Promise<void>((resolve) => (deadline = resolve)) });
    const next = node.kernel.append('after');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(node.kernel.status().awaitingPeers).toBe(true);
    deadline();
    expect(await next).toMatchObject({ index: 1 });
    await node.close();
  });

  it('signs with the key in the file', async () => {
    const dir = freshDir();
    await (await openNodeKernel(dir, { create: true })).close();
    const key = await loadKeyFile(join(dir, DATA_DIR_FILES.key));
    const message = utf8('signed by the node key');
    const signature = await key.signer.sign(message);
    expect(await verifyEd25519(key.signer.publicKey, message, signature)).toBe(true);
    expect(await verifyEd25519(key.signer.publicKey, utf8('something else'), signature)).toBe(false);
    const node = await openNodeKernel(dir);
    expect(node.kernel.nodeId).toBe(nodeIdFromPublicKey(key.signer.publicKey));
    await node.close();
  });

  it('refuses a dir without a node unless asked to create one', async () => {
    const dir = freshDir();
    await expect(openNodeKernel(dir)).rejects.toThrow(DataDirNotInitialisedError);
    await expect(openNodeKernel(dir)).rejects.toThrow(/naos ledger init --data/);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a ledger whose key file is gone, instead of minting a new identity', async () => {
    const dir = freshDir();
    await (await openNodeKernel(dir, { create: true })).close();
    rmSync(join(dir, DATA_DIR_FILES.key));
    await expect(openNodeKernel(dir)).rejects.toThrow(KeyFileMissingError);
    await expect(openNodeKernel(dir, { create: true })).rejects.toThrow(KeyFileMissingError);
    expect(existsSync(join(dir, DATA_DIR_FILES.key))).toBe(false);
    expect(existsSync(join(dir, DATA_DIR_FILES.lock))).toBe(false);
  });

  it.runIf(posix)('refuses a key file that group or others can access, naming the chmod fix', async () => {
    const dir = freshDir();
    await (await openNodeKernel(dir, { create: true })).close();
    const keyFile = join(dir, DATA_DIR_FILES.key);
    for (const mode of [0o644, 0o640, 0o604, 0o660, 0o602]) {
      chmodSync(keyFile, mode);
      const error = (await openNodeKernel(dir).catch((e: unknown) => e)) as KeyFilePermissionError;
      expect(error).toBeInstanceOf(KeyFilePermissionError);
      expect(error.message).toContain(`chmod 600 ${keyFile}`);
      expect(error.message).toContain(`mode 0${mode.toString(8)}`);
    }
    chmodSync(keyFile, 0o600);
    await (await openNodeKernel(dir)).close();
  });

  it('refuses a key file that is not an Ed25519 PKCS#8 PEM key', async () => {
    const dir = freshDir();
    await (await openNodeKernel(dir, { create: true })).close();
    const keyFile = join(dir, DATA_DIR_FILES.key);
    writeFileSync(keyFile, 'garbage\n', { mode: 0o600 });
    await expect(openNodeKernel(dir)).rejects.toThrow(KeyFileFormatError);
    const x25519 = generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    writeFileSync(keyFile, x25519, { mode: 0o600 });
    await expect(openNodeKernel(dir)).rejects.toThrow(/holds a x25519 key; a node key must be Ed25519/);
  });

  it('lets only one opener have the data dir at a time, in this process and in another', async () => {
    const dir = freshDir();
    const node = await openNodeKernel(dir, { create: true });
    await expect(openNodeKernel(dir)).rejects.toThrow(DataDirLockedError);
    expect(readFileSync(join(dir, DATA_DIR_FILES.lock), 'utf8').trim()).toBe(String(process.pid));

    const other = spawnSync(process.execPath, [BIN, 'ledger', 'status', '--data', dir], { encoding: 'utf8' });
    expect(other.status).toBe(2);
    expect(other.stderr).toContain(`in use by process ${process.pid}`);

    await node.close();
    expect(existsSync(join(dir, DATA_DIR_FILES.lock))).toBe(false);
    await (await openNodeKernel(dir)).close();
  });

  it('takes over a stale lock whose process is gone, and refuses one that names no process', async () => {
    const dir = freshDir();
    await (await openNodeKernel(dir, { create: true })).close();
    const lockFile = join(dir, DATA_DIR_FILES.lock);
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(lockFile, `${gone}\n`);
    const node = await openNodeKernel(dir);
    expect(readFileSync(lockFile, 'utf8').trim()).toBe(String(process.pid));
    await node.close();

    writeFileSync(lockFile, 'not a pid\n');
    await expect(openNodeKernel(dir)).rejects.toThrow(/delete the lock file if no such process is running/);
    rmSync(lockFile);
  });

  it('creates the data dir with owner-only permissions, parents included', async () => {
    const parent = freshDir();
    mkdirSync(parent);
    const dir = join(parent, 'a', 'b');
    await (await openNodeKernel(dir, { create: true })).close();
    expect(existsSync(join(dir, DATA_DIR_FILES.key))).toBe(true);
    if (posix) expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
});
