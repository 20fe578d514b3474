// Makes sure a Chromium exists before browser tests run: Playwright's own if installed,
// else /usr/bin/chromium, else install Debian's package with apt when running as root,
// else fail with the command that fixes it.
import { spawnSync } from 'node:child_process';
import { findChromium } from './chromium.js';

const found = findChromium();
if (found) {
  console.log(`chromium: ${found}`);
  process.exit(0);
}
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) {
  console.error(
    'No Chromium found and not root, so it cannot be installed here.\nFix: sudo apt-get install -y chromium   (or set CHROMIUM_PATH to a Chromium binary)',
  );
  process.exit(1);
}
console.log('chromium: not found, installing Debian package `chromium` with apt-get …');
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [
  ['update', '-qq'],
  ['install', '-y', '-qq', 'chromium'],
]) {
  const run = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (run.status !== 0) {
    console.error(`apt-get ${args.join(' ')} failed (exit ${run.status}). Fix: apt-get install -y chromium`);
    process.exit(1);
  }
}
const installed = findChromium();
if (!installed) {
  console.error('apt-get reported success but no Chromium binary was found at /usr/bin/chromium.');
  process.exit(1);
}
console.log(`chromium: ${installed}`);
