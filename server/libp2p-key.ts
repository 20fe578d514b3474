import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { chmod, link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { KeyFileFormatError, KeyFilePermissionError } from '../adapters/node/key-file.js';

/**
 * The libp2p identity of a Node-side service (relay, always-on peer): an Ed25519 key in
 * libp2p's protobuf encoding, in a file only its owner may read (mode 0600), so the
 * service keeps its peer id — and the addresses browsers have — across restarts. It is
 * not the node key: a node's libp2p peer id is bound to its node id by the handshake.
 */
export async function loadOrCreateLibp2pKey(path: string): Promise<{ privateKey: PrivateKey; created: boolean }> {
  const existing = await load(path);
  if (existing) return { privateKey: existing, created: false };
  const privateKey = await generateKeyPair('Ed25519');
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, privateKeyToProtobuf(privateKey), { mode: 0o600, flag: 'wx' });
  try {
    await chmod(temporary, 0o600);
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { privateKey: (await load(path))!, created: false };
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  return { privateKey, created: true };
}

async function load(path: string): Promise<PrivateKey | undefined> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!info.isFile()) throw new KeyFileFormatError(`libp2p key file ${path} is not a regular file`);
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) throw new KeyFilePermissionError(path, info.mode);
  try {
    return privateKeyFromProtobuf(new Uint8Array(await readFile(path)));
  } catch (cause) {
    throw new KeyFileFormatError(`libp2p key file ${path} is not a protobuf-encoded libp2p private key: ${(cause as Error).message}`, {
      cause,
    });
  }
}
