import './components/naos-app.js';
import { KernelClient } from './kernel-client.js';
import { startKernelWorker } from './kernel-worker.js';

// Boot order matters for automation: globalThis.naos exists as soon as this module has
// run, before the kernel is up; scripts await naos.ready.
const client = new KernelClient(startKernelWorker);
globalThis.naos = client.naos;

const app = document.querySelector('naos-app') ?? document.body.appendChild(document.createElement('naos-app'));
app.client = client;
