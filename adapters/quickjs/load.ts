import variant from '@jitl/quickjs-wasmfile-release-sync';
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSWASMModule } from 'quickjs-emscripten-core';

const PAGE = 64 * 1024;
/** The release-sync variant's own minimum (its INITIAL_MEMORY): 16 MiB. */
const VARIANT_INITIAL_PAGES = 256;

/**
 * Loads a fresh QuickJS WebAssembly module whose whole heap lives in its own
 * WebAssembly.Memory with a `maximum`: the hard memory cap (runtime.setMemoryLimit is
 * not cumulative, quickjs-emscripten #255/#271). The same import resolves to the
 * browser build under Vite and to the Node build under Node (conditional exports); in a
 * bundle, pass the .wasm file's URL as `wasmLocation` (Vite's `?url` import) so that
 * dependency pre-bundling cannot break the library's own relative lookup.
 */
export async function loadQuickJs(memoryBytes: number, wasmLocation?: string): Promise<QuickJSWASMModule> {
  const maximum = Math.max(VARIANT_INITIAL_PAGES, Math.ceil(memoryBytes / PAGE));
  const wasmMemory = new WebAssembly.Memory({ initial: VARIANT_INITIAL_PAGES, maximum });
  return newQuickJSWASMModuleFromVariant(newVariant(variant, { wasmMemory, ...(wasmLocation === undefined ? {} : { wasmLocation }) }));
}
