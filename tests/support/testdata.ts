import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The transparency-dev/merkle probe files live in ../shared beside the repository; tests
 * read them from there and never copy them in. A missing directory is a hard failure, not
 * a skip: these vectors are the point of the Merkle tests.
 */
export const TESTDATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/transparency-dev-merkle-testdata');

export interface ProbeFile<T> {
  readonly path: string;
  readonly data: T;
}

export function readProbes<T>(kind: 'inclusion' | 'consistency'): ProbeFile<T>[] {
  const root = join(TESTDATA_DIR, kind);
  const out: ProbeFile<T>[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.json')) {
        out.push({ path: relative(TESTDATA_DIR, path), data: JSON.parse(readFileSync(path, 'utf8')) as T });
      }
    }
  };
  walk(root);
  return out;
}
