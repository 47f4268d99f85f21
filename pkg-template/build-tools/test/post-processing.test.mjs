// The npm build's wasm post-processing (shrink.mjs, low-memory.mjs) on small modules made here: it does its job on
// the shapes wasm-bindgen and rustc produce today, and fails the build loudly, changing nothing, when a name it
// relies on is spelled differently (what a wasm-bindgen or rustc upgrade would do). Run: node --test test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { u32Bytes, nameBytes, sections, parseImports, parseExports } from "../wasm-module.mjs";

const TOOLS = dirname(dirname(fileURLToPath(import.meta.url)));

const vec = (items) => Buffer.concat([u32Bytes(items.length), ...items]);
const section = (id, payload) => Buffer.concat([Buffer.from([id]), u32Bytes(payload.length), payload]);
const EMPTY_BODY = Buffer.from([0x00, 0x0b]); // no locals, end

/**
 * A module of `() -> ()` functions: `imports` as [module, name], then one defined function per entry of `defined`
 * ({ name, body?, export? }); a `name` section names them all (imports first), as wasm-bindgen's output has.
 */
function wasmModule({ imports = [], defined = [], extraTypes = [] }) {
  const type = section(1, vec([Buffer.from([0x60, 0x00, 0x00]), ...extraTypes.map((t) => Buffer.from(t))]));
  const imp = section(2, vec(imports.map(([m, n]) => Buffer.concat([nameBytes(m), nameBytes(n), Buffer.from([0, 0])]))));
  const func = section(3, vec(defined.map(() => Buffer.from([0]))));
  const exported = defined.map((d, i) => [d.export, imports.length + i]).filter(([e]) => e);
  const exp = section(7, vec(exported.map(([e, idx]) => Buffer.concat([nameBytes(e), Buffer.from([0]), u32Bytes(idx)]))));
  const code = section(10, vec(defined.map((d) => {
    const body = d.body ?? EMPTY_BODY;
    return Buffer.concat([u32Bytes(body.length), body]);
  })));
  const allNames = [...imports.map(([, n]) => n), ...defined.map((d) => d.name)];
  const fnNames = vec(allNames.map((n, i) => Buffer.concat([u32Bytes(i), nameBytes(n)])));
  const nameSec = section(0, Buffer.concat([nameBytes("name"), Buffer.from([1]), u32Bytes(fnNames.length), fnNames]));
  const header = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const out = Buffer.concat([header, type, imp, func, exp, code, nameSec]);
  assert.ok(WebAssembly.validate(out), "the test module validates");
  return out;
}

const IMPORT = "__wbg_log_0123456789abcdef";
const SHIM = "wasm_bindgen__convert__closures_____invoke__h0123456789abcdef";

/** The web glue as wasm-bindgen 0.2.130 writes it, reduced to the parts shrink.mjs reads. */
const webGlue = ({ key = "./fauna_session_bg.js", importName = IMPORT } = {}) => `/* @ts-self-types="./fauna_session.d.ts" */
let wasm;
export function init() {
    wasm.init();
}
export function callBack() {
    wasm.${SHIM}();
}
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        ${importName}: function() {
            console.log("log");
        },
    };
    return {
        __proto__: null,
        "${key}": import0,
    };
}
const CLOSURE_DTORS = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(state => wasm.${SHIM}(state.a, state.b));
export const registry = () => CLOSURE_DTORS;

const cachedTextEncoder = new TextEncoder();

if (!('encodeInto' in cachedTextEncoder)) {
    cachedTextEncoder.encodeInto = function (arg, view) {
        const buf = cachedTextEncoder.encode(arg);
        view.set(buf);
        return {
            read: arg.length,
            written: buf.length
        };
    };
}
export function encodeAbc(view) {
    return cachedTextEncoder.encodeInto("abc", view).written;
}

function initSync(module) {
    if (wasm !== undefined) return wasm;


    if (module !== undefined) {
        if (Object.getPrototypeOf(module) === Object.prototype) {
            ({module} = module)
        } else {
            console.warn('using deprecated parameters for \`initSync()\`; pass a single object instead')
        }
    }

    const imports = __wbg_get_imports();
    if (!(module instanceof WebAssembly.Module)) {
        module = new WebAssembly.Module(module);
    }
    wasm = new WebAssembly.Instance(module, imports).exports;
    return wasm;
}
export { initSync };
async function __wbg_init(module_or_path) {
    if (module_or_path === undefined) module_or_path = new URL("fauna_session_bg.wasm", import.meta.url);
    const { instance } = await WebAssembly.instantiateStreaming(fetch(module_or_path), __wbg_get_imports());
    wasm = instance.exports;
}
export default __wbg_init;
`;

/** A wasm-bindgen output directory for shrink.mjs: the module imports `IMPORT` from `module`. */
function outputDir({ module = "./fauna_session_bg.js", glue = webGlue(), extraTypes = [], api = [], types = "" } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "shrink-test-"));
  const wasm = wasmModule({
    extraTypes,
    imports: [[module, IMPORT]],
    defined: [
      { name: "init", export: "init" },
      { name: SHIM, export: SHIM },
      ...api.map((name) => ({ name, export: name })),
    ],
  });
  writeFileSync(join(dir, "fauna_session_bg.wasm"), wasm);
  writeFileSync(join(dir, "fauna_session.js"), glue);
  const members = ["init", SHIM, ...api].map((m) => `  readonly ${m}: () => void;\n`).join("");
  writeFileSync(join(dir, "fauna_session.d.ts"), `export function init(): void;\n${types}export interface InitOutput {\n${members}}\n`);
  return dir;
}

const run = (script, ...args) => spawnSync(process.execPath, [join(TOOLS, script), ...args], { encoding: "utf8" });

function snapshot(dir) {
  return ["fauna_session_bg.wasm", "fauna_session.js", "fauna_session.d.ts"].map((f) => readFileSync(join(dir, f)));
}

function wasmNames(file) {
  const wasm = readFileSync(file);
  const secs = sections(wasm);
  const imp = secs.find((s) => s.id === 2);
  const exp = secs.find((s) => s.id === 7);
  return {
    imports: parseImports(wasm.subarray(imp.start, imp.end)),
    exports: parseExports(wasm.subarray(exp.start, exp.end)).map((e) => e.name),
  };
}

test("shrink.mjs renames wasm-bindgen's import and export names in the wasm and the glue alike", () => {
  const dir = outputDir();
  const r = run("shrink.mjs", dir, "web");
  assert.equal(r.status, 0, r.stderr);
  const { imports, exports } = wasmNames(join(dir, "fauna_session_bg.wasm"));
  assert.equal(imports.length, 1);
  assert.equal(imports[0].module, "a");
  assert.match(imports[0].name, /^[a-z]$/);
  assert.ok(!exports.includes("init"), "the API export is renamed too (only the glue calls it)");
  assert.ok(!exports.includes(SHIM), "the closure shim is renamed");
  const glue = readFileSync(join(dir, "fauna_session.js"), "utf8");
  assert.ok(!glue.includes(IMPORT) && !glue.includes(SHIM), "no old name is left in the glue");
  assert.ok(glue.includes(`${imports[0].name}:`), "the glue defines the new import name");
  assert.match(glue, /new URL\("fauna_session_bg\.wasm",\s*import\.meta\.url\)/);
  const types = readFileSync(join(dir, "fauna_session.d.ts"), "utf8");
  assert.ok(!types.includes(SHIM), "the .d.ts describes the renamed export");
  assert.match(types, /^export function init\(\): void;$/m, "the API function's declaration keeps its name");
  assert.doesNotMatch(types, /readonly init:/, "InitOutput names the wasm export by its new name");
  assert.match(glue, /export\s*\{[^}]*\binit\b|export function init\b/, "the glue still exports init");
  assert.doesNotMatch(glue, /wasm\.init\b/, "the glue calls the export by its new name");
  assert.equal(run("shrink.mjs", dir, "web").status, 1, "a second run refuses the shrunk directory");
});

test("shrink.mjs renames an API export the glue re-exports under its own name (`export { f2 as f }`), keeping the JS name", () => {
  // wasm-bindgen renames a glue function whose name a snippet import already takes, and re-exports it.
  const glue = webGlue().replace(
    "export default __wbg_init;",
    "function validateClaims2() {\n    wasm.validateClaims();\n}\nexport { validateClaims2 as validateClaims };\nexport default __wbg_init;",
  );
  const types = "declare function validateClaims2(): void;\nexport { validateClaims2 as validateClaims };\n";
  const dir = outputDir({ glue, api: ["validateClaims"], types });
  const r = run("shrink.mjs", dir, "web");
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!wasmNames(join(dir, "fauna_session_bg.wasm")).exports.includes("validateClaims"), "the wasm export is renamed");
  const types2 = readFileSync(join(dir, "fauna_session.d.ts"), "utf8");
  assert.match(types2, /export \{ validateClaims2 as validateClaims \}/);
  assert.match(types2, /declare function validateClaims2\(\): void;/);
  const glue2 = readFileSync(join(dir, "fauna_session.js"), "utf8");
  assert.match(glue2, /as validateClaims\s*\}/, "the glue still exports validateClaims");
  assert.doesNotMatch(glue2, /\.validateClaims\(\)/, "the glue calls the export by its new name");
});

test("shrink.mjs cuts the encodeInto polyfill and initSync's deprecation warning, and initSync takes both forms", async () => {
  const dir = outputDir();
  const r = run("shrink.mjs", dir, "web");
  assert.equal(r.status, 0, r.stderr);
  const glue = readFileSync(join(dir, "fauna_session.js"), "utf8");
  assert.doesNotMatch(glue, /'encodeInto' in|"encodeInto"in/, "the polyfill is gone");
  assert.doesNotMatch(glue, /deprecated parameters|console\.warn/, "the warning is gone");
  assert.doesNotMatch(glue, /typeof FinalizationRegistry|unregister:/, "the FinalizationRegistry stand-in is gone");
  // The shrunk glue still runs: initSync with `{ module }` and with the Module itself, encodeInto from the platform.
  const file = join(dir, "run.mjs");
  writeFileSync(file, glue.replace(/^\/\*.*\*\/$/m, ""));
  const m = await import(`${file}?a`);
  const module = new WebAssembly.Module(readFileSync(join(dir, "fauna_session_bg.wasm")));
  assert.ok(m.initSync({ module }), "initSync({ module })");
  const m2 = await import(`${file}?b`);
  assert.ok(m2.initSync(module), "initSync(module), the deprecated form");
  assert.equal(m.encodeAbc(new Uint8Array(3)), 3);
  assert.ok(m.registry() instanceof FinalizationRegistry);
});

test("shrink.mjs fails loudly when the glue no longer has a piece it cuts in the spelling it knows", () => {
  const noPolyfill = webGlue().replace("if (!('encodeInto' in cachedTextEncoder)) {", "if (!(\"encodeInto\" in cachedTextEncoder)) {");
  refuses(outputDir({ glue: noPolyfill }), /the TextEncoder#encodeInto polyfill: not found exactly once/);
  const noWarning = webGlue().replace("using deprecated parameters for", "deprecated arguments for");
  refuses(outputDir({ glue: noWarning }), /initSync's deprecated-arguments warning: not found exactly once/);
  const noFallback = webGlue().replace("{ register: () => {}, unregister: () => {} }", "{ register() {}, unregister() {} }");
  refuses(outputDir({ glue: noFallback }), /the FinalizationRegistry fallback: not found exactly once/);
});

test("shrink.mjs drops the exports the glue never uses, from the wasm and the .d.ts", () => {
  const dir = outputDir({ api: ["__wbindgen_free"] });
  const r = run("shrink.mjs", dir, "web");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /dropped __wbindgen_free\)/);
  const { exports } = wasmNames(join(dir, "fauna_session_bg.wasm"));
  assert.ok(!exports.includes("__wbindgen_free"), "gone from the wasm");
  assert.equal(exports.length, 2, "init and the shim stay, renamed");
  const types = readFileSync(join(dir, "fauna_session.d.ts"), "utf8");
  assert.doesNotMatch(types, /__wbindgen_free/, "gone from InitOutput");
  assert.match(types, /^export function init\(\): void;$/m);
});

/** shrink.mjs must exit 1 with `message` and leave the directory as it was. */
function refuses(dir, message) {
  const before = snapshot(dir);
  const r = run("shrink.mjs", dir, "web");
  assert.equal(r.status, 1, `expected a failure, got: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.deepEqual(snapshot(dir), before, "nothing was written");
}

test("shrink.mjs fails loudly when the glue defines the import under another name", () => {
  refuses(outputDir({ glue: webGlue({ importName: "__wbg_log_fedcba9876543210" }) }), /__wbg_log_0123456789abcdef: defined 0 times/);
});

test("shrink.mjs fails loudly when the glue's imports object names the module differently", () => {
  refuses(outputDir({ glue: webGlue({ key: "./fauna_session_bg.mjs" }) }), /is not exactly once an object key/);
});

test("shrink.mjs fails loudly when the wasm imports from a module it does not know", () => {
  refuses(outputDir({ module: "wbg" }), /imports nothing from "\.\/fauna_session_bg\.js"/);
});

test("shrink.mjs fails loudly when the module passes externrefs or returns several values", () => {
  // (externref) -> (): what wasm-bindgen's shims look like when reference types are on.
  refuses(outputDir({ extraTypes: [[0x60, 0x01, 0x6f, 0x00]] }), /function type 1 passes an externref/);
  // () -> (i32, i32): a multivalue return.
  refuses(outputDir({ extraTypes: [[0x60, 0x00, 0x02, 0x7f, 0x7f]] }), /function type 1 returns 2 values/);
});

/** A module with `memory` (defined, or imported as env.memory) and active data segments at `offsets`. */
function dataModule(offsets, { imported = false } = {}) {
  const header = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const limits = Buffer.from([0x00, 0x11]); // min 17 pages
  const parts = [header];
  if (imported) parts.push(section(2, vec([Buffer.concat([nameBytes("env"), nameBytes("memory"), Buffer.from([0x02]), limits])])));
  else parts.push(section(5, vec([limits])));
  const sleb = (n) => {
    const out = [];
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return Buffer.from([...out, b]);
      out.push(b | 0x80);
    }
  };
  const seg = (o) => Buffer.concat([Buffer.from([0x00, 0x41]), sleb(o), Buffer.from([0x0b]), u32Bytes(3), Buffer.from("abc")]);
  parts.push(section(11, vec(offsets.map(seg))));
  const out = Buffer.concat(parts);
  assert.ok(WebAssembly.validate(out), "the test module validates");
  const path = join(mkdtempSync(join(tmpdir(), "low-memory-test-")), "m.wasm");
  writeFileSync(path, out);
  return path;
}

test("low-memory.mjs accepts rustc's layout: data at 1 MiB (or at 1024), memory defined by the module", () => {
  for (const offsets of [[1048576, 1053716], [1024]]) {
    const r = run("low-memory.mjs", dataModule(offsets));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /addresses below 1024 unused/);
  }
});

test("low-memory.mjs fails the build when low memory may be in use", () => {
  for (const [offsets, opts, why] of [
    [[1048576, 16], {}, /starts at 16, below 1024/],
    [[1023], {}, /below 1024/],
    [[-8], {}, /below 1024/],
    [[1048576], { imported: true }, /memory is imported/],
  ]) {
    const r = run("low-memory.mjs", dataModule(offsets, opts));
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, why);
  }
});
