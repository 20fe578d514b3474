import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPatch, PATCHES } from '../../scripts/patch-deps.js';

/**
 * scripts/patch-deps.js (npm postinstall): the installed @libp2p/webrtc carries our fix
 * for the init data channel race (docs/upstream/libp2p-webrtc-init-channel-race.md), and
 * the patcher is idempotent and refuses text it does not expect.
 */
const [patch] = PATCHES;
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A scratch root with a copy of the installed package, its target file as published. */
async function scratchRoot(published: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'naos-patch-'));
  dirs.push(root);
  const dir = join(root, 'node_modules', '@libp2p', 'webrtc');
  await cp(join('node_modules', '@libp2p', 'webrtc', 'package.json'), join(dir, 'package.json'), { recursive: true });
  await cp(join('node_modules', '@libp2p', 'webrtc', 'dist'), join(dir, 'dist'), { recursive: true });
  await writeFile(join(dir, patch!.file), published);
  return root;
}

/** The published text, rebuilt from the installed (patched) file by undoing the replacements. */
async function publishedText(): Promise<string> {
  let text = await readFile(join('node_modules', '@libp2p', 'webrtc', patch!.file), 'utf8');
  for (const [from, to] of [...patch!.replacements].reverse()) text = text.replace(to, () => from);
  return text;
}

describe('patch-deps', () => {
  it('the installed @libp2p/webrtc is patched (npm ran our postinstall)', async () => {
    const text = await readFile(join('node_modules', '@libp2p', 'webrtc', patch!.file), 'utf8');
    expect(text).toContain(patch!.marker);
    expect(text).toContain('await raceSignal(initChannelClosed, signal);');
    expect(text).not.toContain("await pEvent(channel, 'open'");
  });

  it('applies once, then leaves the file alone', async () => {
    const published = await publishedText();
    expect(published).not.toContain(patch!.marker);
    const root = await scratchRoot(published);
    expect(applyPatch(patch!, root)).toBe('applied');
    const once = await readFile(join(root, 'node_modules', '@libp2p', 'webrtc', patch!.file), 'utf8');
    expect(applyPatch(patch!, root)).toBe('patched');
    expect(await readFile(join(root, 'node_modules', '@libp2p', 'webrtc', patch!.file), 'utf8')).toBe(once);
  });

  it('refuses a file whose text it does not find exactly once, and --check mode never writes', async () => {
    const root = await scratchRoot('export const nothing = 1;\n');
    expect(() => applyPatch(patch!, root)).toThrow(/found it 0 times/);
    const fresh = await scratchRoot(await publishedText());
    expect(() => applyPatch(patch!, fresh, { check: true })).toThrow(/lacks the patch/);
  });

  it('says when the package is not installed', async () => {
    const root = await mkdtemp(join(tmpdir(), 'naos-patch-'));
    dirs.push(root);
    expect(applyPatch(patch!, root)).toBe('not-installed');
  });
});
