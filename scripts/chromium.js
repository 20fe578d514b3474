// Finds the Chromium that browser tests and benchmarks drive. Order: CHROMIUM_PATH,
// Playwright's own download (if one was ever installed), Debian's /usr/bin/chromium.
// Plain JS so that node scripts, vitest and playwright configs can all import it.
import { existsSync, statfsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // WebRTC between browsers on a loopback-only network (with the context permission
  // `microphone`, which makes Chromium offer host candidates): docs/BROWSER.md.
  '--allow-loopback-in-peer-connection',
];

export function findChromium() {
  const candidates = [process.env.CHROMIUM_PATH, safePlaywrightPath(), '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((path) => path && existsSync(path));
}

function safePlaywrightPath() {
  try {
    return chromium.executablePath();
  } catch {
    return undefined;
  }
}

export function chromiumLaunchOptions() {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error('No Chromium found. Run `node scripts/ensure-chromium.js` (installs Debian chromium as root) or set CHROMIUM_PATH.');
  }
  return { executablePath, args: chromiumFlags() };
}

/** CHROMIUM_FLAGS and, on a host short of shared memory, --disable-dev-shm-usage. */
export function chromiumFlags() {
  return [...CHROMIUM_FLAGS, ...sharedMemoryFlags()];
}

/** Below this much free /dev/shm, Chromium is told to use /tmp instead (as Debian's launcher means to). */
const MIN_SHM_BYTES = 3.8e9;

/**
 * Many tabs in one Chromium need shared memory; in a container /dev/shm is often 64 MB, and
 * Chromium then crashes. Debian's /usr/bin/chromium means to add --disable-dev-shm-usage in
 * that case, but its check fails on hosts where `findmnt` prints more than one line
 * (`[: … unexpected operator`), so the decision is made here.
 */
export function sharedMemoryFlags(statfs = statfsSync) {
  try {
    const { bavail, bsize } = statfs('/dev/shm');
    return bavail * bsize < MIN_SHM_BYTES ? ['--disable-dev-shm-usage'] : [];
  } catch {
    return ['--disable-dev-shm-usage'];
  }
}
