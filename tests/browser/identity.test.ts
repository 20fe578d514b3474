import { deleteDB, openDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { utf8 } from '../../src/bytes.js';
import { verifyEd25519 } from '../../src/crypto/ed25519.js';
import { isNodeId, nodeIdFromPublicKey } from '../../src/identity/node-id.js';
import { IdentityError, openBrowserIdentity } from '../../adapters/browser/identity.js';
import { IDENTITY_KEY, openNodeDb } from '../../adapters/browser/node-db.js';

const DB = 'naos-test-identity';
const OTHER_DB = 'naos-test-identity-other';

async function storedRecord(): Promise<{ publicKey: CryptoKey; privateKey: CryptoKey }> {
  const db = await openNodeDb(DB);
  try {
    return (await db.get('identity', IDENTITY_KEY))!;
  } finally {
    db.close();
  }
}

/** Writes the identity record raw, creating the slot database first if needed. */
async function overwriteRecord(value: unknown): Promise<void> {
  (await openNodeDb(DB)).close();
  const db = await openDB(DB);
  try {
    await db.put('identity', value, IDENTITY_KEY);
  } finally {
    db.close();
  }
}

describe('browser identity', () => {
  afterEach(async () => {
    await deleteDB(DB);
    await deleteDB(OTHER_DB);
  });

  it('creates an Ed25519 identity once and gets the same one back on reopen', async () => {
    const first = await openBrowserIdentity(DB);
    expect(first.created).toBe(true);
    expect(isNodeId(first.nodeId)).toBe(true);
    expect(first.nodeId).toBe(nodeIdFromPublicKey(first.publicKey));
    const again = await openBrowserIdentity(DB);
    expect(again.created).toBe(false);
    expect(again.nodeId).toBe(first.nodeId);
  });

  it('keeps separate identities in separate slot databases', async () => {
    const a = await openBrowserIdentity(DB);
    const b = await openBrowserIdentity(OTHER_DB);
    expect(a.nodeId).not.toBe(b.nodeId);
  });

  it('stores a non-extractable private key that signs verifiable signatures', async () => {
    const identity = await openBrowserIdentity(DB);
    const { privateKey, publicKey } = await storedRecord();
    expect(privateKey).toBeInstanceOf(CryptoKey);
    expect(privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', privateKey)).rejects.toThrow();
    expect(new Uint8Array(await crypto.subtle.exportKey('raw', publicKey))).toEqual(identity.publicKey);
    const message = utf8('checkpoint body');
    const signature = await identity.signer.sign(message);
    expect(await verifyEd25519(identity.publicKey, message, signature)).toBe(true);
    expect(await verifyEd25519(identity.publicKey, utf8('other body'), signature)).toBe(false);
  });

  it('refuses a malformed stored record and leaves it untouched', async () => {
    await openBrowserIdentity(DB);
    await overwriteRecord({ publicKey: 'nope', privateKey: 7 });
    await expect(openBrowserIdentity(DB)).rejects.toThrow(IdentityError);
    await expect(openBrowserIdentity(DB)).rejects.toThrow(/does not hold two CryptoKeys.*untouched/);
    const db = await openDB(DB);
    expect(await db.get('identity', IDENTITY_KEY)).toEqual({ publicKey: 'nope', privateKey: 7 });
    db.close();
  });

  it('refuses an extractable private key', async () => {
    const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
    await overwriteRecord({ publicKey: pair.publicKey, privateKey: pair.privateKey });
    await expect(openBrowserIdentity(DB)).rejects.toThrow(/extractable/);
  });

  it('refuses halves of two different key pairs', async () => {
    const one = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    const two = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    await overwriteRecord({ publicKey: one.publicKey, privateKey: two.privateKey });
    await expect(openBrowserIdentity(DB)).rejects.toThrow(/does not match/);
  });

  it('refuses keys of another algorithm', async () => {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    await overwriteRecord({ publicKey: pair.publicKey, privateKey: pair.privateKey });
    await expect(openBrowserIdentity(DB)).rejects.toThrow(/not Ed25519/);
  });
});
