import type { NaosApi } from './naos-api.js';

declare global {
  /** This tab's kernel API (web/naos-api.ts, docs/BROWSER.md). */
  var naos: NaosApi;
}
