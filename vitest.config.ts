import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { chromiumFlags, findChromium } from './scripts/chromium.js';

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
          include: [
            'multiformats/cid',
            'multiformats/hashes/digest',
            'quickjs-emscripten-core',
            '@jitl/quickjs-wasmfile-release-sync',
            'libp2p',
            '@libp2p/webrtc',
            '@libp2p/websockets',
            '@libp2p/circuit-relay-v2',
            '@libp2p/identify',
            '@libp2p/ping',
            '@libp2p/noise',
            '@libp2p/yamux',
            '@libp2p/gossipsub',
            '@libp2p/pubsub-peer-discovery',
            '@libp2p/crypto/keys',
          ],
        },
        test: {
          name: 'browser',
          include: ['tests/contract/**/*.browser.test.ts', 'tests/browser/**/*.test.ts'],
          // A relay for the WebRTC tests, its address by inject('naosRelay').
          globalSetup: ['tests/support/relay.browser-setup.ts'],
          testTimeout: 30_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: { executablePath: findChromium() ?? '/usr/bin/chromium', args: chromiumFlags() },
              // Host ICE candidates for WebRTC on loopback (with --allow-loopback-in-peer-connection).
              contextOptions: { permissions: ['microphone'] },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
