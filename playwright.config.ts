import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './scripts/chromium.js';

// End-to-end tests in real Chromium against the built app served by `npm start`.
// E2E_PORT keeps the test server off the default port a developer may be using.
const PORT = Number(process.env['E2E_PORT'] ?? 4174);
const BASE_URL = `http://127.0.0.1:${PORT}`;

export default defineConfig({
  testDir: 'tests/e2e',
  forbidOnly: true,
  // Two cores here, ≈100 MB per browser context: one test file at a time.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  use: {
    baseURL: BASE_URL,
    browserName: 'chromium',
    launchOptions: chromiumLaunchOptions(),
    trace: 'retain-on-failure',
    actionTimeout: 20_000,
    navigationTimeout: 30_000,
  },
  webServer: {
    command: 'npm start',
    // The relay on a free port (browsers find it in /.well-known/peers.json) and its own
    // data dir, so a developer's `npm start` can run too. No always-on peer here: it would
    // carry one test's logs into the next test's tabs. The cross-browser tests
    // (browsers.spec.ts) start an `npm start` of their own, with a peer.
    env: { PORT: String(PORT), RELAY_PORT: '0', NAOS_PEER: 'off', NAOS_DATA: join(tmpdir(), 'naos-e2e-server') },
    url: BASE_URL,
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
  },
});
