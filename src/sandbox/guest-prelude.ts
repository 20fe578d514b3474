/**
 * Evaluated in every fresh QuickJS context before any module or agent code. It makes the
 * guest deterministic and gives the host one frozen entry point, `__naos`:
 *
 * - `Date` is not there at all (the context is created without the Date intrinsic), so
 *   no wall clock can be read; WeakRef and FinalizationRegistry (which expose GC timing)
 *   are deleted, and so are SharedArrayBuffer and Atomics.
 * - `Math.random` and `ctx.random` are one seeded sfc32 generator; the host seeds it per
 *   step from SHA-256(agent id, step number), so a replay draws the same numbers.
 * - `__naos.run` parses the inputs with the JSON functions captured here — an agent that
 *   replaces `JSON.parse` or `JSON.stringify` cannot change how its inputs arrive or how
 *   its output leaves — calls `step(state, message, ctx)` and returns the result as JSON
 *   text, which the host checks before believing anything in it; `__naos.check` only
 *   checks that the agent defines `step` (a spawn loads its program that way).
 */
export const GUEST_PRELUDE = `(function () {
  'use strict';
  var g = globalThis;
  var parse = JSON.parse;
  var stringify = JSON.stringify;
  var freeze = Object.freeze;
  var defineProperty = Object.defineProperty;
  var a = 0, b = 0, c = 0, d = 0;
  function random() {
    var t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  defineProperty(Math, 'random', { value: random, writable: false, configurable: false, enumerable: false });
  delete g.WeakRef;
  delete g.FinalizationRegistry;
  delete g.SharedArrayBuffer;
  delete g.Atomics;
  var modules = {};
  function addModule(name, value) {
    defineProperty(modules, name, { value: value, enumerable: true, writable: false, configurable: false });
  }
  function check() {
    if (typeof step !== 'function') throw new TypeError('the agent defines no function step(state, message, ctx)');
    return 'null';
  }
  function run(stateJson, messageJson, ctxJson, s0, s1, s2, s3) {
    a = s0 | 0; b = s1 | 0; c = s2 | 0; d = s3 | 0;
    for (var i = 0; i < 12; i++) random();
    check();
    var ctx = parse(ctxJson);
    ctx.random = random;
    ctx.modules = freeze(modules);
    var result = step(parse(stateJson), parse(messageJson), freeze(ctx));
    var text = stringify(result);
    if (typeof text !== 'string') throw new TypeError('step must return an object {state, effects?}, got ' + typeof result);
    return text;
  }
  defineProperty(g, '__naos', { value: freeze({ run: run, check: check, addModule: addModule }), writable: false, configurable: false, enumerable: false });
})();
`;

/** Lines moduleWrapper puts before a module's source. */
export const MODULE_WRAPPER_LINES = 1;

/** Wraps a CommonJS-style module source so that evaluating it yields its exports. */
export function moduleWrapper(source: string): string {
  return `(function () { var module = { exports: {} }; var exports = module.exports;\n${source}\n;return module.exports; })()`;
}
