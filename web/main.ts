import './components/naos-app.js';
import { KernelClient, writeReplicasWhenHidden } from './kernel-client.js';
import { startKernelWorker, startPageNetwork } from './kernel-worker.js';
import { requestPersistence } from './storage.js';

// Boot order matters for automation: globalThis.naos exists as soon as this module has
// run, before the kernel is up; scripts await naos.ready.
// The tab's libp2p node (other browsers, the always-on peer) starts once the kernel is up.
const client = new KernelClient(startKernelWorker, { network: startPageNetwork });
globalThis.naos = client.naos;
writeReplicasWhenHidden(client);

// Everything the node holds is in IndexedDB: ask that the browser not clear it under
// storage pressure (once booted, so the request never delays the kernel).
void client.naos.ready.then(requestPersistence, () => undefined);

const app = document.querySelector('naos-app') ?? document.body.appendChild(document.createElement('naos-app'));
app.client = client;

// Installable offline PWA (vite.config.ts, docs/BROWSER.md): the service worker precaches
// the whole build. Registering it never reloads this page; a new build is used from the
// next load on. Not in the dev server, which has no service worker.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((error: unknown) => {
    console.warn('Naos works online only: the service worker could not be registered', error);
  });
}
