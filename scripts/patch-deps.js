// Fixes in installed dependencies, applied by npm as this package's own `postinstall`
// (npm runs the root package's lifecycle scripts on `npm install` and `npm ci`, even where
// dependencies' install scripts are not allowed). Idempotent: a patched file carries a
// marker and is left alone. Strict: a patch whose target text is not found exactly once
// fails the install, so an upgraded dependency cannot silently lose a fix.
//
// `node scripts/patch-deps.js --check` only reports (exit 1 if a patch is missing).
// Each patch has an upstream-style report in docs/ (symptom, cause, fix).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** @typedef {{ name: string, package: string, version: string, file: string, marker: string, report: string, replacements: [string, string][] }} Patch */

/** @type {Patch[]} */
export const PATCHES = [
  {
    name: 'webrtc-init-channel-race',
    package: '@libp2p/webrtc',
    version: '6.0.33',
    file: 'dist/src/private-to-private/initiate-connection.js',
    marker: 'naos-patch: webrtc-init-channel-race',
    report: 'docs/upstream/libp2p-webrtc-init-channel-race.md',
    replacements: [
      ["import { pEvent } from 'p-event';\n", "import { pEvent } from 'p-event';\nimport { raceSignal } from 'race-signal';\n"],
      [
        "        const channel = peerConnection.createDataChannel('init');\n",
        "        const channel = peerConnection.createDataChannel('init');\n" +
          '        // naos-patch: webrtc-init-channel-race (docs/upstream/libp2p-webrtc-init-channel-race.md):\n' +
          '        // listen from the start, because the answerer closes this channel as soon as it\n' +
          "        // opens, and both events can fire before the 'connected' state is seen below\n" +
          '        const initChannelOpened = new Promise((resolve) => {\n' +
          "            channel.addEventListener('open', () => resolve(), { once: true });\n" +
          "            channel.addEventListener('close', () => resolve(), { once: true });\n" +
          '        });\n' +
          '        const initChannelClosed = new Promise((resolve) => {\n' +
          "            channel.addEventListener('close', () => resolve(), { once: true });\n" +
          '        });\n',
      ],
      [
        "        if (channel.readyState !== 'open') {\n" +
          "            log.trace('wait for init channel to open');\n" +
          "            await pEvent(channel, 'open', {\n" +
          '                signal\n' +
          '            });\n' +
          '        }\n',
        "        if (channel.readyState === 'connecting') {\n" +
          "            log.trace('wait for init channel to open');\n" +
          '            await raceSignal(initChannelOpened, signal);\n' +
          '        }\n',
      ],
      [
        "        await pEvent(channel, 'close', {\n            signal\n        });\n",
        '        await raceSignal(initChannelClosed, signal);\n',
      ],
    ],
  },
];

export class PatchError extends Error {
  name = 'PatchError';
}

/** Where a patch's target lives, and its installed version (undefined if not installed). */
function locate(patch, root) {
  const dir = join(root, 'node_modules', ...patch.package.split('/'));
  let version;
  try {
    version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return { path: join(dir, patch.file), version: undefined };
  }
  return { path: join(dir, patch.file), version };
}

/** 'applied' | 'patched' (already) | 'not-installed'; throws PatchError if the target is not what the patch expects. */
export function applyPatch(patch, root = ROOT, { check = false } = {}) {
  const { path, version } = locate(patch, root);
  if (version === undefined) return 'not-installed';
  const text = readFileSync(path, 'utf8');
  if (text.includes(patch.marker)) return 'patched';
  if (version !== patch.version) {
    throw new PatchError(
      `${patch.package} is ${version}, the patch ${patch.name} is for ${patch.version}: check whether ${patch.report} is fixed upstream, then update or drop the patch in scripts/patch-deps.js`,
    );
  }
  if (check) throw new PatchError(`${patch.package} ${version} lacks the patch ${patch.name}: run \`node scripts/patch-deps.js\``);
  let next = text;
  for (const [from, to] of patch.replacements) {
    const count = next.split(from).length - 1;
    if (count !== 1) throw new PatchError(`${patch.name}: expected the text to replace once in ${path}, found it ${count} times:\n${from}`);
    next = next.replace(from, () => to);
  }
  writeFileSync(path, next);
  return 'applied';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  let failed = false;
  for (const patch of PATCHES) {
    try {
      const outcome = applyPatch(patch, ROOT, { check });
      if (outcome !== 'not-installed') console.log(`patch ${patch.name} (${patch.package}): ${outcome}`);
    } catch (error) {
      failed = true;
      console.error(error instanceof PatchError ? error.message : error);
    }
  }
  if (failed) process.exit(1);
}
