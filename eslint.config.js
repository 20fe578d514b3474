import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Purity of the core is enforced twice: src/tsconfig.json has no DOM/Node types, and
// these rules refuse platform imports, clocks and randomness in src/.
const CORE_FORBIDDEN_IMPORTS = [
  { group: ['idb', 'idb/*'], message: 'src/ is the pure core: storage adapters live in adapters/.' },
  { group: ['lit', 'lit/*', '@lit/*'], message: 'src/ is the pure core: UI lives in web/.' },
  { group: ['libp2p', '@libp2p/*', '@chainsafe/*'], message: 'src/ is the pure core: networking lives in adapters/.' },
  { group: ['comlink'], message: 'src/ is the pure core: worker plumbing lives in workers/.' },
  {
    group: ['node:*', 'fs', 'path', 'os', 'child_process', 'classic-level'],
    message: 'src/ is the pure core: Node I/O lives in adapters/node or cli/.',
  },
  {
    group: ['../../adapters/*', '../../web/*', '../../workers/*', '../../cli/*', '../../server/*'],
    message: 'src/ must not import outer layers.',
  },
];

export default tseslint.config(
  {
    ignores: ['*.cjs', 'dist/**', 'node_modules/**', 'coverage/**', 'scratch/**', 'test-results/**', 'playwright-report/**', '.bench/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'scripts/*.js', 'bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node, ...globals.browser },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='only']", message: 'No focused tests (.only) — they silently skip the rest.' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: CORE_FORBIDDEN_IMPORTS }],
      'no-restricted-globals': [
        'error',
        ...[
          'window',
          'document',
          'self',
          'indexedDB',
          'localStorage',
          'sessionStorage',
          'navigator',
          'BroadcastChannel',
          'Worker',
          'process',
          'Date',
          'setTimeout',
          'setInterval',
          'performance',
        ].map((name) => ({ name, message: 'src/ is the pure core: platform globals, clocks and timers are injected.' })),
      ],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Randomness is injected (determinism).' }],
    },
  },
  {
    // The libp2p adapter runs in the browser page and in Node alike.
    files: ['adapters/libp2p/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'os', 'net', 'http', 'ws', 'classic-level', 'idb'],
              message: 'adapters/libp2p is platform-neutral.',
            },
            { group: ['../node/*', '../browser/*'], message: 'adapters/libp2p is platform-neutral.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['process', 'Buffer', 'window', 'document'].map((name) => ({ name, message: 'adapters/libp2p is platform-neutral.' })),
      ],
    },
  },
  {
    // libp2p in the page (network/): no storage, Node, worker or UI modules.
    files: ['network/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'os', 'net', 'http', 'ws', 'classic-level', 'idb', 'lit'],
              message: 'network/ is libp2p in the page.',
            },
            {
              group: ['../adapters/browser/*', '../adapters/node/*', '../workers/*', '../web/*', '../server/*'],
              message: 'network/ uses adapters/libp2p and the core only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
