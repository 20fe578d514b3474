import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { chmod, link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import type { Signer } from '../../src/crypto/ed25519.js';
import { NaosError } from '../../src/errors.js';

/**
 * A Node-side node's identity: one Ed25519 private key in a PKCS#8 PEM file that only
 * its owner may read (mode 0600), like an SSH private key.
 */

/** The key file exists but group or others have permissions on it. */
export class KeyFilePermissionError extends NaosError {
  constructor(
    readonly path: string,
    readonly mode: number,
  ) {
    super(
      `key file ${path} is accessible by group or others (mode ${octal(mode)}); ` +
        `a node key must be readable only by its owner. Fix it with: chmod 600 ${path}`,
    );
  }
}

/** The key file is not a PKCS#8 PEM Ed25519 private key. */
export class KeyFileFormatError extends NaosError {}

/** No key file where one was required. */
export class KeyFileMissingError extends NaosError {}

export interface NodeKey {
  readonly path: string;
  readonly signer: Signer;
  /** True if this call created the key file. */
  readonly created: boolean;
}

const OWNER_ONLY = 0o600;

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/** Loads the key file at `path`, refusing it if group/others have access or it is not an Ed25519 PKCS#8 key. */
export async function loadKeyFile(path: string): Promise<NodeKey> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyFileMissingError(`no key file at ${path}`, { cause: error });
    throw error;
  }
  if (!info.isFile()) throw new KeyFileFormatError(`key file ${path} is not a regular file`);
  // POSIX permissions only; Windows has no group/other mode bits to check.
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) throw new KeyFilePermissionError(path, info.mode);
  const pem = await readFile(path, 'utf8');
  return { path, signer: signerFromPem(pem, path), created: false };
}

/**
 * Loads the key file, or creates a fresh key there (mode 0600) if none exists. Creation
 * is atomic: the key is written under a temporary name and linked into place, so a
 * reader never sees a half-written key and two creators cannot both win.
 */
export async function loadOrCreateKeyFile(path: string): Promise<NodeKey> {
  try {
    return await loadKeyFile(path);
  } catch (error) {
    if (!(error instanceof KeyFileMissingError)) throw error;
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, pem, { mode: OWNER_ONLY, flag: 'wx' });
  try {
    // The umask can only remove bits, but a too-open one set on purpose should not win.
    await chmod(temporary, OWNER_ONLY);
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return await loadKeyFile(path);
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  return { path, signer: signerFromKeyObject(privateKey), created: true };
}

function signerFromPem(pem: string, path: string): Signer {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new KeyFileFormatError(`key file ${path} is not a PEM private key: ${(cause as Error).message}`, { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyFileFormatError(`key file ${path} holds a ${key.asymmetricKeyType ?? 'unknown'} key; a node key must be Ed25519`);
  }
  return signerFromKeyObject(key);
}

function signerFromKeyObject(privateKey: KeyObject): Signer {
  // An OKP JWK's `x` is the raw 32-byte Ed25519 public key (RFC 8037), base64url.
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicKey = new Uint8Array(Buffer.from(x ?? '', 'base64url'));
  return {
    publicKey,
    sign: (message) => Promise.resolve(new Uint8Array(sign(null, message, privateKey))),
  };
}
