// The layers, and which way imports go (docs/ARCHITECTURE.md):
//   web/ → workers/ (by URL) ; workers/ → adapters/browser, src/ ; adapters/* → src/ ;
//   cli/, server/ → adapters/node, src/ ; src/ → (npm packages only)
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
      name: 'workers-are-entry-points',
      comment: 'Nothing imports a worker module; it is loaded by URL (new Worker(new URL(...))).',
      severity: 'error',
      from: { path: '^(src|adapters|web|cli|server)/' },
      to: { path: '^workers/.*\\.worker\\.ts$' },
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
