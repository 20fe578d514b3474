/** Types of scripts/patch-deps.js (plain JS so npm can run it before anything is built). */
export interface Patch {
  readonly name: string;
  readonly package: string;
  readonly version: string;
  readonly file: string;
  readonly marker: string;
  readonly report: string;
  readonly replacements: readonly (readonly [string, string])[];
}

export const PATCHES: readonly Patch[];

export class PatchError extends Error {}

export function applyPatch(patch: Patch, root?: string, options?: { check?: boolean }): 'applied' | 'patched' | 'not-installed';
