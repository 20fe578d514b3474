import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { decodeEnvelope, encodeEnvelope, SYNC_LIBP2P, withCapability } from '../../src/federation/messages.js';
import { manifestParamsFrom } from '../../web/kernel-worker.js';
import { buildManifest, DEFAULT_CAPABILITIES, DEFAULT_TYPES, SOFTWARE } from '../../workers/manifest.js';

describe('node manifest (F2)', () => {
  it('has sensible defaults', () => {
    expect(buildManifest({}, 1234)).toEqual({
      region: 'local',
      shard: 'local-0',
      types: DEFAULT_TYPES,
      capabilities: DEFAULT_CAPABILITIES,
      trust: 'experimental',
      started: 1234,
      software: SOFTWARE,
    });
    expect(SOFTWARE).toMatch(/^naos\/\d+\.\d+\.\d+/);
  });

  it('takes region, shard, types and capabilities from the page URL', () => {
    const params = manifestParamsFrom('?region=eu-west&shard=eu-west-1&types=pod-host,%20index,index&capabilities=ledger,gpu:a100&other=x');
    expect(params).toEqual({ region: 'eu-west', shard: 'eu-west-1', types: 'pod-host, index,index', capabilities: 'ledger,gpu:a100' });
    const manifest = buildManifest(params, 0);
    expect(manifest).toMatchObject({
      region: 'eu-west',
      shard: 'eu-west-1',
      types: ['pod-host', 'index'],
      capabilities: ['ledger', 'gpu:a100'],
    });
    // What is built is what the wire accepts.
    expect(buildManifest({ region: 'us' }, 0).shard).toBe('us-0');
    expect(manifestParamsFrom('')).toEqual({});
  });

  it('refuses values it would not announce, naming them', () => {
    expect(() => buildManifest({ region: '' }, 0)).toThrow(/region ""/);
    expect(() => buildManifest({ region: 'x'.repeat(65) }, 0)).toThrow(/region/);
    expect(() => buildManifest({ shard: 'a b' }, 0)).toThrow(/shard "a b"/);
    expect(() => buildManifest({ types: 'pod-host,toaster' }, 0)).toThrow(/type "toaster" is not one of/);
    expect(() => buildManifest({ capabilities: 'ok,<script>' }, 0)).toThrow(/capabilities "<script>"/);
    expect(() => buildManifest({ region: 'eu' }, 0)).not.toThrow();
    expect(() => buildManifest({ region: '?' }, 0)).toThrow(InvalidInputError);
  });

  it('every accepted manifest survives the strict ANNOUNCE decoder', () => {
    const manifest = buildManifest({ region: 'ap-south', types: 'gateway,bridge,index,compute,pod-host' }, Date.UTC(2030, 0, 1));
    const bytes = encodeEnvelope({
      v: 1,
      from: 'a'.repeat(32),
      key: new Uint8Array(32),
      session: new Uint8Array(8),
      seq: 0,
      body: { type: 'ANNOUNCE', manifest },
      sig: new Uint8Array(64),
    });
    expect(decodeEnvelope(bytes).body).toEqual({ type: 'ANNOUNCE', manifest });
  });

  it('gains a capability once, and never past the 64 the wire accepts', () => {
    const manifest = buildManifest({}, 0);
    const gained = withCapability(manifest, SYNC_LIBP2P);
    expect(gained.capabilities).toEqual([...DEFAULT_CAPABILITIES, 'sync/libp2p']);
    expect(manifest.capabilities).toEqual(DEFAULT_CAPABILITIES);
    expect(withCapability(gained, SYNC_LIBP2P)).toBe(gained);
    const full = buildManifest({ capabilities: Array.from({ length: 64 }, (_, i) => `c${i}`).join(',') }, 0);
    expect(withCapability(full, SYNC_LIBP2P)).toBe(full);
    expect(() => buildManifest({ capabilities: Array.from({ length: 65 }, (_, i) => `c${i}`).join(',') }, 0)).toThrow(
      /65 items, at most 64/,
    );
  });
});
