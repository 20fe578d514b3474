import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { CHROMIUM_FLAGS, findChromium } from './scripts/chromium.js';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['tests/unit/**/*.test.ts', 'tests/contract/**/*.node.test.ts', 'tests/libp2p/**/*.test.ts'],
          environment: 'node',
          // A relay for the libp2p tests, its address in NAOS_TEST_RELAY (js-libp2p style).
          globalSetup: ['tests/support/relay.global-setup.ts'],
          testTimeout: 30_000,
        },
      },
      {
        // Discovered late (inside workers), these would make Vite re-optimise and reload a running test.
        optimizeDeps: {
          include: ['multiformats/cid', 'multiformats/hashes/digest', 'quickjs-emscripten-core', '@jitl/quickjs-wasmfile-release-sync'],
        },
        test: {
          name: 'browser',
          include: ['tests/contract/**/*.browser.test.ts', 'tests/browser/**/*.test.ts'],
          testTimeout: 30_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: { executablePath: findChromium() ?? '/usr/bin/chromium', args: CHROMIUM_FLAGS },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
