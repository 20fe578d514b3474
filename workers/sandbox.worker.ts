import wasmLocation from '@jitl/quickjs-wasmfile-release-sync/wasm?url';
import { loadQuickJs } from '../adapters/quickjs/load.js';
import { QuickJsEngine } from '../src/sandbox/quickjs-engine.js';
import { type FromSandbox, SANDBOX_READY_MESSAGE, type ToSandbox } from '../src/sandbox/worker-protocol.js';

// One QuickJS sandbox per worker: the host (adapters/browser/worker-sandbox.ts) sends
// steps one at a time, watches each with a watchdog and terminates this worker when a
// step overruns or the engine reports itself broken.

let engine: QuickJsEngine | undefined;

const post = (message: FromSandbox): void => self.postMessage(message);

self.addEventListener('message', (event: MessageEvent<ToSandbox>) => {
  const message = event.data;
  if (message.type === 'init') {
    loadQuickJs(message.limits.memoryBytes, wasmLocation).then(
      (module) => {
        engine = new QuickJsEngine(module, message.limits, () => performance.now());
        engine.prewarm();
        post({ type: 'loaded' });
      },
      (error: unknown) => post({ type: 'load-failed', message: error instanceof Error ? error.message : String(error) }),
    );
    return;
  }
  if (!engine) {
    post({
      type: 'outcome',
      id: message.id,
      outcome: { ok: false, fault: { kind: 'crash', message: 'sandbox not loaded' } },
      broken: true,
    });
    return;
  }
  const outcome = engine.run(message.request);
  post({ type: 'outcome', id: message.id, outcome, broken: engine.broken });
  // The next step's contexts are made after the answer is on its way.
  if (!engine.broken) setTimeout(() => engine?.prewarm(), 0);
});

self.postMessage(SANDBOX_READY_MESSAGE);
