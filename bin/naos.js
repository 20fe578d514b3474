#!/usr/bin/env node
// The `naos` command (docs/CLI.md). The CLI is TypeScript; tsx compiles it on load, so
// `npx naos …` works straight after `npm ci`, with no build step.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
