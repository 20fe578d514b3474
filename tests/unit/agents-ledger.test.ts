import { afterAll, describe, expect, it } from 'vitest';
import { InProcessSandbox } from '../../adapters/quickjs/in-process-sandbox.js';
import { assembleBlob, blobCid } from '../../src/agents/content.js';
import { ContentHashMismatchError, ModuleError, PassportError } from '../../src/agents/errors.js';
import type { Passport } from '../../src/agents/passport.js';
import { stateHash } from '../../src/agents/state-hash.js';
import { fromBase64, toBase64, utf8 } from '../../src/bytes.js';
import { decodeEntry, encodeEntry } from '../../src/ledger/entry.js';
import { agentNode, committed, COUNTER, stepRecord, TEST_LIMITS } from '../support/agents.js';

const sandbox = new InProcessSandbox(TEST_LIMITS);
afterAll(() => sandbox.close());

describe('passports (F15)', () => {
  async function withPassport() {
    const node = await agentNode(41, { sandbox });
    const { id } = await node.host.spawn(COUNTER, { name: 'citizen', rights: ['ledger.append', 'agent.send', 'council.propose'] });
    await node.kernel.appendEntries([{ kind: 'policy.revoke', value: { agent: id, rights: ['council.propose'] } }]);
    await node.kernel.append('unrelated');
    return { ...node, id, passport: await node.host.passport(id) };
  }

  it('proves identity and rights offline: registration and policy changes against a signed checkpoint', async () => {
    const { host, kernel, id, passport } = await withPassport();
    expect(passport.entries.map((e) => e.index)).toEqual([1, 3]);
    const view = await host.verifyPassport(JSON.parse(JSON.stringify(passport)));
    expect(view).toEqual({
      agent: id,
      registrar: kernel.nodeId,
      program: blobCid(utf8(COUNTER)),
      rights: ['agent.send', 'ledger.append'],
      duties: [],
      parent: null,
      size: 5,
    });
    expect(host.get(id).rights).toEqual(view.rights);
  });

  it('is verified by another node that never saw the registrar', async () => {
    const { passport } = await withPassport();
    const stranger = await agentNode(42, { sandbox });
    await expect(stranger.host.verifyPassport(passport)).resolves.toMatchObject({ rights: ['agent.send', 'ledger.append'] });
  });

  const tamper = (passport: Passport, change: (p: { -readonly [K in keyof Passport]: Passport[K] }) => void): Passport => {
    const copy = JSON.parse(JSON.stringify(passport)) as Passport;
    change(copy);
    return copy;
  };

  it('refuses forged or damaged passports, naming the check', async () => {
    const { host, passport } = await withPassport();
    const other = await agentNode(43, { sandbox });
    const cases: [string, Passport, RegExp][] = [
      [
        'rights rewritten in the entry',
        tamper(passport, (p) => {
          const entry = decodeEntry(fromBase64(p.entries[0]!.bytes));
          const forged = encodeEntry({ ...entry, payload: { ...(entry.payload as object), rights: ['agent.spawn'] } });
          p.entries = [{ ...p.entries[0]!, bytes: toBase64(forged) }, p.entries[1]!];
        }),
        /not included in the signed checkpoint/,
      ],
      [
        'revocation left out',
        tamper(passport, (p) => {
          p.entries = [p.entries[0]!];
        }),
        /^$/,
      ],
      [
        'a proof hash flipped',
        tamper(passport, (p) => {
          const proof = [...p.entries[0]!.proof];
          proof[0] = proof[0]!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
          p.entries = [{ ...p.entries[0]!, proof }, p.entries[1]!];
        }),
        /not included/,
      ],
      [
        'checkpoint from another node',
        tamper(passport, (p) => {
          p.checkpoint = other.kernel.checkpoint();
        }),
        /checkpoint does not verify/,
      ],
      [
        'verifier key of another node',
        tamper(passport, (p) => {
          p.verifierKey = other.kernel.verifierKey;
        }),
        /verifier key is for/,
      ],
      [
        'another agent named',
        tamper(passport, (p) => {
          p.agent = 'agent:impostor::local';
        }),
        /not of agent:impostor/,
      ],
      ['not a passport', { v: 2 } as unknown as Passport, /v must be 1/],
    ];
    for (const [what, forged, reason] of cases) {
      if (what === 'revocation left out') {
        // Inclusion proofs cannot show absence: a holder may omit a later revocation.
        // The passport then verifies with the older rights; nodes holding the registrar's
        // log see the revocation in their own PolicyLedger (documented limitation).
        await expect(host.verifyPassport(forged)).resolves.toMatchObject({ rights: ['agent.send', 'council.propose', 'ledger.append'] });
        continue;
      }
      await expect(host.verifyPassport(forged), what).rejects.toThrow(PassportError);
      await expect(host.verifyPassport(forged), what).rejects.toThrow(reason);
    }
  });
});

describe('replay (F18)', () => {
  it('confirms recorded steps and reports a recording that does not replay as the recording node’s fault', async () => {
    const code = `function step(state, message, ctx) { return { state: { n: state.n + message.by, roll: Math.floor(ctx.random() * 6) }, effects: [{ type: 'append', value: state.n }] }; }`;
    const liar = await agentNode(51, { sandbox });
    const { id } = await liar.host.spawn(code, { name: 'audited', state: { n: 1 } });
    committed(await liar.host.send(id, { by: 2 }));
    // The host records a step its program never produced (state and hash agree, so only re-execution can tell).
    const before = liar.host.get(id);
    await liar.kernel.appendEntries([
      stepRecord({ agent: id, step: 2, message: { by: 1 }, prevHash: before.stateHash, state: { n: 1000, roll: 0 } }),
    ]);
    const auditor = await agentNode(52, { sandbox });
    for (const head of liar.kernel.adverts()) {
      const batch = await liar.kernel.readBatch(head.origin, 0, 1 << 20);
      await auditor.kernel.applyBatch(batch!);
    }
    expect(auditor.host.get(id)).toMatchObject({ step: 2, state: { n: 1000, roll: 0 } });
    expect(await auditor.host.replay(id, 1)).toMatchObject({ status: 'confirmed', recordedBy: liar.kernel.nodeId });
    const verdict = await auditor.host.replay(id, 2);
    expect(verdict).toMatchObject({
      status: 'mismatch',
      recordedBy: liar.kernel.nodeId,
      expected: stateHash({ n: 1000, roll: 0 }),
      reason: 're-execution reached a different state',
    });
    const fault = (await auditor.kernel.entries(0, 10)).find((e) => e.kind === 'agent.fault');
    expect(fault?.payload).toMatchObject({ agent: id, step: 2, node: liar.kernel.nodeId });
    await expect(auditor.host.replay(id, 3)).rejects.toThrow(RangeError);
  });
});

describe('modules (F19)', () => {
  it('publishes versions, pulls, updates, checks and removes them; agents import JS modules by CID', async () => {
    const { host, kernel } = await agentNode(61, { sandbox });
    const v1 = await host.module.publish('math', '1.0.0', 'exports.twice = (x) => x * 2;', 'js');
    expect(host.module.checkVersion('math')).toEqual({ name: 'math', installed: null, latest: '1.0.0', upToDate: false });
    await host.module.pull('math');
    expect(host.module.checkVersion('math')).toMatchObject({ installed: '1.0.0', upToDate: true });
    const v2 = await host.module.publish('math', '1.1.0', 'exports.twice = (x) => x + x;', 'js');
    expect(host.module.checkVersion('math')).toMatchObject({ installed: '1.0.0', latest: '1.1.0', upToDate: false });
    expect(await host.module.update('math')).toMatchObject({ installed: '1.1.0', upToDate: true });
    await expect(host.module.publish('math', '1.1.0', 'other', 'js')).rejects.toThrow(ModuleError);
    expect(host.module.versions('math').map((v) => v.version)).toEqual(['1.0.0', '1.1.0']);
    await host.module.remove('math');
    expect(host.module.checkVersion('math').installed).toBeNull();

    const user = `function step(state, message, ctx) {
      if (message.import) return { state, effects: [{ type: 'import', name: 'math', cid: message.import }] };
      return { state: { v: ctx.modules.math ? ctx.modules.math.twice(21) : null } };
    }`;
    const { id } = await host.spawn(user, { name: 'user', rights: ['module.import'] });
    expect(committed(await host.send(id, { import: v1.cid })).effects).toEqual([
      { type: 'import', status: 'done', right: 'module.import' },
    ]);
    expect(committed(await host.send(id, {})).state).toEqual({ v: 42 });
    expect(host.get(id).modules).toEqual({ math: v1.cid });
    const bogus = committed(await host.send(id, { import: blobCid(utf8('nope')) }));
    expect(bogus.effects[0]).toMatchObject({ status: 'refused', reason: expect.stringMatching(/not a published version/) as unknown });
    expect(v2.cid).not.toBe(v1.cid);
    expect((await kernel.entries(0, 100)).some((e) => e.kind === 'module.uninstall')).toBe(true);
  });

  it('verifies WASM modules by hash and refuses them inside agent sandboxes', async () => {
    const { host } = await agentNode(62, { sandbox });
    const wasm = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const published = await host.module.publish('policy-net', '0.1.0', wasm, 'wasm');
    expect(host.module.import('policy-net', published.cid)).toMatchObject({ kind: 'wasm', bytes: wasm });
    await expect(host.module.publish('bad', '0.1.0', new Uint8Array([1, 2, 3]), 'wasm')).rejects.toThrow(/magic/);
    const { id } = await host.spawn(
      `function step(s, m) { return { state: s, effects: [{ type: 'import', name: 'policy-net', cid: m.cid }] }; }`,
      {
        name: 'wasm-user',
        rights: ['module.import'],
      },
    );
    const result = committed(await host.send(id, { cid: published.cid }));
    expect(result.effects[0]).toMatchObject({ status: 'refused', reason: expect.stringMatching(/only js modules/) as unknown });
  });

  it('loads a module published on another node from replicated chunks, and refuses chunks that do not match the CID', async () => {
    const publisher = await agentNode(63, { sandbox });
    const { cid } = await publisher.host.module.publish('lib', '2.0.0', 'exports.x = 1;', 'js');
    const other = await agentNode(64, { sandbox });
    expect(() => other.host.module.import('lib', cid)).toThrow(ModuleError);
    await other.kernel.applyBatch((await publisher.kernel.readBatch(publisher.kernel.origin, 0, 1 << 20))!);
    expect(other.host.module.source('lib', cid)).toBe('exports.x = 1;');

    // A node that publishes a CID with chunks whose bytes are different: never assembled.
    const forger = await agentNode(65, { sandbox });
    const fakeCid = blobCid(utf8('exports.safe = true;'));
    await forger.kernel.appendEntries([
      { kind: 'blob.chunk', value: { cid: fakeCid, index: 0, count: 1, size: 14, data: toBase64(utf8('exports.x = 2;')) } },
      { kind: 'module.publish', value: { name: 'trojan', version: '1.0.0', cid: fakeCid, kind: 'js', size: 14 } },
    ]);
    expect(() => forger.host.module.import('trojan', fakeCid)).toThrow(/not held yet/);
    const forged = { cid: fakeCid, index: 0, count: 1, size: 14, data: toBase64(utf8('exports.x = 2;')) };
    expect(() => assembleBlob(fakeCid, [forged])).toThrow(ContentHashMismatchError);
  });
});

describe('the health monitor meta-agent (F23)', () => {
  it('runs with only health.report, writes reports and alerts from metrics, and executes no tasks', async () => {
    const { host, kernel } = await agentNode(71, { sandbox });
    const id = await host.startHealthMonitor();
    expect(id).toBe(`agent:federation-health-monitor::node-${kernel.nodeId.slice(0, 12)}`);
    expect(await host.startHealthMonitor()).toBe(id);
    expect(host.get(id)).toMatchObject({ rights: ['health.report'], duties: ['monitor-federation'], live: true });
    committed(await host.reportMetrics({ peers: 3, rootsInAgreement: 3, syncLagMs: 0, refusals: 0 }));
    const bad = committed(await host.reportMetrics({ peers: 3, rootsInAgreement: 1, syncLagMs: 60_000, refusals: 0 }));
    expect(bad.effects.map((e) => `${e.type}:${e.status}`)).toEqual(['report:done', 'alert:done']);
    committed(await host.reportMetrics({ peers: 3, rootsInAgreement: 3, syncLagMs: 0, refusals: 0 }));
    const entries = await kernel.entries(0, 100);
    expect(
      entries.filter((e) => e.kind === 'health.report').map((e) => (e.payload as { report: { status: string } }).report.status),
    ).toEqual(['healthy', 'unhealthy', 'healthy']);
    expect(entries.filter((e) => e.kind === 'health.alert').map((e) => (e.payload as { alert: { status: string } }).alert.status)).toEqual([
      'unhealthy',
      'recovered',
    ]);
    expect(host.get(id).rights.some((r) => r !== 'health.report')).toBe(false);
  });
});
