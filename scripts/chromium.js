// Finds the Chromium that browser tests and benchmarks drive. Order: CHROMIUM_PATH,
// Playwright's own download (if one was ever installed), Debian's /usr/bin/chromium.
// Plain JS so that node scripts, vitest and playwright configs can all import it.
import { existsSync } from 'node:fs';
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
  return { executablePath, args: CHROMIUM_FLAGS };
}
