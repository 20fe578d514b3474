// The layers, and which way imports go (docs/ARCHITECTURE.md):
//   web/ → network/, workers/ (by URL) ; network/ (libp2p in the page) → adapters/libp2p, src/ ;
//   workers/ → adapters/browser, adapters/libp2p, src/ ;
//   adapters/* → src/ ; cli/ → adapters/node, src/ ;
//   server/ → adapters/node, adapters/libp2p, src/ ; src/ → (npm packages only)
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'core-is-innermost',
      comment: 'src/ is the pure core and imports no outer layer.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(adapters|workers|web|cli|server|scripts|tests)/' },
    },
    {
      name: 'core-is-platform-free',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: 'node_modules/(idb|lit|@lit|libp2p|@libp2p|comlink|classic-level)/|^node:|^(fs|path|os|child_process)$' },
    },
    {
      name: 'adapters-do-not-reach-up',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: '^(workers|web|cli|server)/' },
    },
    {
      name: 'browser-and-node-adapters-stay-apart',
      severity: 'error',
      from: { path: '^adapters/browser/' },
      to: { path: '^adapters/node/' },
    },
    {
      name: 'node-adapters-stay-apart',
      severity: 'error',
      from: { path: '^adapters/node/' },
      to: { path: '^adapters/browser/' },
    },
    {
      name: 'libp2p-adapter-is-platform-neutral',
      comment: 'adapters/libp2p runs in the browser page and in Node alike: no Node or browser-only adapters, no Node modules.',
      severity: 'error',
      from: { path: '^adapters/libp2p/' },
      to: { path: '^adapters/(node|browser)/|node_modules/(ws|classic-level|idb)/|^node:|^(fs|path|os|child_process|net|http)$' },
    },
    {
      name: 'server-is-node-only',
      comment: 'server/ (npm start: relay, always-on peer, peers.json) is Node: it never reaches browser adapters, workers or the UI.',
      severity: 'error',
      from: { path: '^server/' },
      to: { path: '^(adapters/browser|workers|web|cli)/' },
    },
    {
      name: 'nothing-imports-the-server',
      comment: 'server/ is the top of the Node side; only scripts/ and tests/ use it.',
      severity: 'error',
      from: { path: '^(src|adapters|network|workers|web|cli|bench)/' },
      to: { path: '^server/' },
    },
    {
      name: 'workers-are-entry-points',
      comment: 'Nothing imports a worker module; it is loaded by URL (new Worker(new URL(...))).',
      severity: 'error',
      from: { path: '^(src|adapters|web|cli|server)/' },
      to: { path: '^workers/.*\\.worker\\.ts$' },
    },
    {
      name: 'page-network-stays-in-its-layer',
      comment:
        'network/ is libp2p in the page: it uses adapters/libp2p and the core, never storage, browser or Node adapters, workers, the UI or the server.',
      severity: 'error',
      from: { path: '^network/' },
      to: { path: '^(adapters/(browser|node)|workers|web|cli|server)/|node_modules/(idb|lit|@lit|classic-level|ws)/' },
    },
    {
      name: 'ui-does-not-touch-storage',
      comment: 'Panels talk to the kernel through the worker API, never to storage directly.',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^adapters/|node_modules/idb/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    exclude: { path: '\\.d\\.ts$' },
  },
};
