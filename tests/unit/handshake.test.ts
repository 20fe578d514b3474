import * as dagCbor from '@ipld/dag-cbor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seedSigner } from '../../src/crypto/ed25519.js';
import {
  checkIdentity,
  decodeHandshakeMessage,
  encodeHandshakeMessage,
  HandshakeError,
  handshakeOnlySigner,
  HandshakeInitiator,
  type HandshakeMessage,
  HandshakeResponder,
  type HandshakeTranscript,
  NonceRegistry,
  proveIdentity,
} from '../../src/federation/handshake.js';
import type { Manifest } from '../../src/federation/messages.js';
import { nodeIdFromPublicKey } from '../../src/identity/node-id.js';

const manifest: Manifest = {
  region: 'eu',
  shard: 'eu-1',
  types: ['pod-host'],
  capabilities: ['x'],
  trust: 'verified',
  started: 5,
  software: 'test',
};
const alice = seedSigner(new Uint8Array(32).fill(1));
const bob = seedSigner(new Uint8Array(32).fill(2));
const nonce = (n: number) => new Uint8Array(32).fill(n);
const PEER_A = '12D3KooWAlice';
const PEER_B = '12D3KooWBob';
const transcript: HandshakeTranscript = { initiator: PEER_A, responder: PEER_B, initiatorNonce: nonce(1), responderNonce: nonce(2) };

async function reason(promise: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (error instanceof HandshakeError) return error.reason;
    throw error;
  }
  throw new Error('accepted');
}

/** Runs both sides over in-memory messages (through the codec, as on the wire). */
async function run(
  options: { aliceNonces?: NonceRegistry; bobNonces?: NonceRegistry; aliceNonce?: Uint8Array; bobNonce?: Uint8Array } = {},
) {
  const wire = (m: HandshakeMessage) => decodeHandshakeMessage(encodeHandshakeMessage(m));
  const initiator = new HandshakeInitiator({
    signer: alice,
    manifest,
    self: PEER_A,
    remote: PEER_B,
    nonce: options.aliceNonce ?? nonce(1),
    nonces: options.aliceNonces ?? new NonceRegistry(),
  });
  const responder = new HandshakeResponder({
    signer: bob,
    manifest,
    self: PEER_B,
    remote: PEER_A,
    nonce: options.bobNonce ?? nonce(2),
    nonces: options.bobNonces ?? new NonceRegistry(),
  });
  const response = await responder.onChallenge(wire(initiator.challenge()));
  const { peer: provenBob, reply } = await initiator.onResponse(wire(response));
  const provenAlice = await responder.onProof(wire(reply));
  initiator.onResult(wire({ type: 'result', ok: true }));
  return { provenAlice, provenBob };
}

describe('handshake: proof of the node key bound to the connection', () => {
  it('both sides prove their node ids and exchange manifests', async () => {
    const { provenAlice, provenBob } = await run();
    expect(provenAlice).toMatchObject({ nodeId: nodeIdFromPublicKey(alice.publicKey), manifest });
    expect(provenBob).toMatchObject({ nodeId: nodeIdFromPublicKey(bob.publicKey), manifest });
  });

  it('a signature verifies for no other connection, run or role', async () => {
    const identity = await proveIdentity(alice, 'initiator', transcript, manifest);
    expect((await checkIdentity(identity, 'initiator', transcript)).nodeId).toBe(nodeIdFromPublicKey(alice.publicKey));
    const elsewhere: HandshakeTranscript[] = [
      { ...transcript, initiator: '12D3KooWMallory' },
      { ...transcript, responder: '12D3KooWMallory' },
      { ...transcript, initiatorNonce: nonce(9) },
      { ...transcript, responderNonce: nonce(9) },
    ];
    for (const other of elsewhere) expect(await reason(checkIdentity(identity, 'initiator', other))).toBe('bad-signature');
    // Reflected back as the other role.
    expect(await reason(checkIdentity(identity, 'responder', transcript))).toBe('bad-signature');
    // A manifest swapped after signing.
    expect(await reason(checkIdentity({ ...identity, manifest: { ...manifest, trust: 'experimental' } }, 'initiator', transcript))).toBe(
      'bad-signature',
    );
    // Someone else's node id with one's own key and signature.
    expect(await reason(checkIdentity({ ...identity, from: nodeIdFromPublicKey(bob.publicKey) }, 'initiator', transcript))).toBe(
      'bad-identity',
    );
    // Another key presented for alice's id.
    const byBob = await proveIdentity(bob, 'initiator', transcript, manifest);
    expect(await reason(checkIdentity({ ...byBob, from: identity.from }, 'initiator', transcript))).toBe('bad-identity');
  });

  it('refuses replayed challenges and responses, and reflected nonces', async () => {
    const bobNonces = new NonceRegistry();
    await run({ bobNonces, bobNonce: nonce(2) });
    // The same challenge again (a replay) at the same responder.
    expect(await reason(run({ bobNonces, bobNonce: nonce(3) }))).toBe('replayed-nonce');
    // A responder that answers with an old nonce.
    const aliceNonces = new NonceRegistry();
    await run({ aliceNonces, aliceNonce: nonce(4), bobNonce: nonce(5) });
    expect(await reason(run({ aliceNonces, aliceNonce: nonce(6), bobNonce: nonce(5) }))).toBe('replayed-nonce');
    // Our own nonce reflected back.
    expect(await reason(run({ aliceNonce: nonce(7), bobNonce: nonce(7) }))).toBe('replayed-nonce');
  });

  it('refuses a peer proving our own node id', async () => {
    const initiator = new HandshakeInitiator({
      signer: alice,
      manifest,
      self: PEER_A,
      remote: PEER_B,
      nonce: nonce(1),
      nonces: new NonceRegistry(),
    });
    const mirror = new HandshakeResponder({
      signer: alice,
      manifest,
      self: PEER_B,
      remote: PEER_A,
      nonce: nonce(2),
      nonces: new NonceRegistry(),
    });
    const response = await mirror.onChallenge(initiator.challenge());
    expect(await reason(initiator.onResponse(response))).toBe('own-node-id');
  });

  it('refuses messages out of order and a refusal is reported as such', async () => {
    const responder = new HandshakeResponder({
      signer: bob,
      manifest,
      self: PEER_B,
      remote: PEER_A,
      nonce: nonce(2),
      nonces: new NonceRegistry(),
    });
    const identity = await proveIdentity(alice, 'initiator', transcript, manifest);
    expect(await reason(responder.onProof({ type: 'proof', identity }))).toBe('malformed');
    expect(await reason(responder.onChallenge({ type: 'proof', identity }))).toBe('malformed');
    const initiator = new HandshakeInitiator({
      signer: alice,
      manifest,
      self: PEER_A,
      remote: PEER_B,
      nonce: nonce(1),
      nonces: new NonceRegistry(),
    });
    expect(await reason(initiator.onResponse({ type: 'result', ok: false, reason: 'no thanks' }))).toBe('refused-by-peer');
    expect(await reason(() => initiator.onResult({ type: 'result', ok: false, reason: 'bad-signature' }))).toBe('refused-by-peer');
  });

  it('decodes strictly: wrong shapes, sizes and non-canonical bytes are malformed', async () => {
    const identity = await proveIdentity(alice, 'initiator', transcript, manifest);
    const good = encodeHandshakeMessage({ type: 'proof', identity });
    expect(decodeHandshakeMessage(good)).toEqual({ type: 'proof', identity });
    const bad: unknown[] = [
      { v: 2, type: 'challenge', nonce: nonce(1) },
      { v: 1, type: 'challenge' },
      { v: 1, type: 'challenge', nonce: 'x' },
      { v: 1, type: 'challenge', nonce: nonce(1), extra: 1 },
      { v: 1, type: 'hello', nonce: nonce(1) },
      { v: 1, type: 'result', ok: 'yes' },
      { v: 1, type: 'proof', identity: { ...identity, key: new Uint8Array(31) } },
      { v: 1, type: 'proof', identity: { ...identity, from: 'not-a-node-id' } },
      { v: 1, type: 'proof', identity: { ...identity, manifest: { ...manifest, trust: 'god' } } },
    ];
    for (const value of bad) expect(await reason(() => decodeHandshakeMessage(dagCbor.encode(value)))).toBe('malformed');
    expect(await reason(() => decodeHandshakeMessage(new Uint8Array(20_000)))).toBe('malformed');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeHandshakeMessage(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(HandshakeError);
        }
      }),
    );
  });

  it('a handshake-only signer proves the node id but signs nothing else', async () => {
    const limited = handshakeOnlySigner(alice);
    const identity = await proveIdentity(limited, 'initiator', transcript, manifest);
    expect((await checkIdentity(identity, 'initiator', transcript)).nodeId).toBe(nodeIdFromPublicKey(alice.publicKey));
    for (const message of [
      new TextEncoder().encode('naos/sync/1.0.0\n…'),
      new TextEncoder().encode('naos/x\n1\nroot\n'),
      new Uint8Array(),
    ]) {
      expect(await reason(limited.sign(message))).toBe('malformed');
    }
  });
});
