#!/usr/bin/env node
// shrink.mjs — post-processes one wasm-bindgen output directory to make the shipped
// package smaller, without changing its public API.
//
//   node pkg-template/build-tools/shrink.mjs <dir> <web|bundler>
//
// <dir> holds wasm-bindgen's (or wasm-pack's) output with --out-name fauna_session,
// before wasm-opt (scripts/wasm-post.sh's post_process): fauna_session_bg.wasm, fauna_session.js and, for --target bundler,
// fauna_session_bg.js. Run it once per directory (it refuses an already-shrunk one).
//
// Why: wasm-bindgen names every import `__wbg_<name>_<16 hex digits>` and the closure
// shims `wasm_bindgen__convert__closures_____invoke__h<16 hex digits>`. Those random
// digits appear in the wasm and again in the JS glue, and gzip cannot compress them:
// several KB of the gzipped package. The glue is also shipped unminified.
//
// What it does:
//  1. Renames, in the wasm's import and export sections (a small parser below, no
//     other sections are touched), every import of the glue's module and every export
//     the glue uses as `wasm.NAME` to short generated names (a, b, …, aa, …; valid JS
//     identifiers, never reserved words), and rewrites the glue to match:
//       - web:     the keys of the imports object in __wbg_get_imports(), and the
//                  module key "./fauna_session_bg.js" (renamed to "a": only the glue sees it);
//       - bundler: the `export function NAME(` of fauna_session_bg.js (the wasm imports
//                  that file as an ES module, so the module name stays, and the new
//                  names avoid every identifier already in the glue);
//       - both:    every `wasm.NAME` access.
//     Renaming is textual on whole identifiers (not preceded/followed by [A-Za-z0-9_$]);
//     the old names carry 16 hex digits, so they cannot occur by accident. It fails
//     loudly if a renamed import is not defined by the glue, if an old name is left
//     over, or if the result does not parse.
//     The API's wasm exports (init, getUserId, …) are renamed too: only the glue calls
//     them, through its JS functions of the same name, which keep their names (about
//     180 bytes gzipped of export names, scripts/size-report.sh).
//     Kept: `memory`; imports of other modules (snippets), whose names are those files'
//     exports. Dropped: exports the glue never uses (nothing can call them; their
//     `.d.ts` members go too).
//     The .d.ts files get the renamed exports too, as members only (`readonly NAME:` of
//     `InitOutput` in the web build's .d.ts, `export const NAME:` in
//     fauna_session_bg.wasm.d.ts), so they keep describing the wasm; the declared API
//     functions are checked to be unchanged, and nothing else in them changes.
//  2. Minifies every .js file of the glue with esbuild (ESM in, ESM out; exported names
//     are kept, so the .d.ts files still match the JS API; a file
//     with `import … from` lines is only parse-checked, see below). The
//     `new URL("fauna_session_bg.wasm", import.meta.url)` that Vite and webpack rewrite
//     is checked to survive; the `@ts-self-types` comment is kept.
import { readFileSync, writeFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { transformSync } from "esbuild";
import { die, checkModule, sections, parseImports, parseExports, u32Bytes, nameBytes, rebuild, nonMvpValues } from "./wasm-module.mjs";

const [dir, target] = process.argv.slice(2);
if (!dir || !["web", "bundler"].includes(target)) die("usage: shrink.mjs <dir> <web|bundler>");

const NAME = "fauna_session";
const BG_MODULE = `./${NAME}_bg.js`; // the module name wasm-bindgen gives the glue's imports
const wasmPath = join(dir, `${NAME}_bg.wasm`);
const jsFiles = readdirSync(dir).filter((f) => f.endsWith(".js")).sort();
const expected = target === "web" ? [`${NAME}.js`] : [`${NAME}.js`, `${NAME}_bg.js`];
for (const f of expected) if (!jsFiles.includes(f)) die(`${join(dir, f)} is missing`);
const glue = Object.fromEntries(jsFiles.map((f) => [f, readFileSync(join(dir, f), "utf8")]));

const wasm = readFileSync(wasmPath);
checkModule(wasm, wasmPath);
// The npm build is compiled without the reference-types and multivalue features (npm_cargo in scripts/wasm-post.sh),
// so wasm-bindgen keeps JS values in its JS-side heap instead of an externref table with a shim around each export
// and import that passes them (about 670 B gzipped less, scripts/size-report.sh). A toolchain that stopped honouring
// that flag would quietly bring them back: fail the build instead.
const nonMvp = nonMvpValues(wasm);
if (nonMvp) die(`${wasmPath}: ${nonMvp}; the npm build expects no reference types or multivalue (scripts/wasm-post.sh)`);

const secs = sections(wasm);
const importSec = secs.find((s) => s.id === 2);
const exportSec = secs.find((s) => s.id === 7);
if (!importSec || !exportSec) die("the wasm has no import or no export section");
const imports = parseImports(wasm.subarray(importSec.start, importSec.end));
const exports = parseExports(wasm.subarray(exportSec.start, exportSec.end));

// ---------------------------------------------------------------- the new names

const RESERVED = new Set(
  ("break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if implements import in instanceof interface let new null package private protected public return " +
    "static super switch this throw true try typeof var void while with yield await arguments eval undefined NaN " +
    "Infinity async of get set").split(" "),
);
const allText = Object.values(glue).join("\n");
const identifiers = new Set(allText.match(/[A-Za-z_$][\w$]*/g));
const FIRST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$";
const REST = FIRST + "0123456789";
function* names() {
  for (let len = 1; ; len++) {
    const idx = new Array(len).fill(0);
    for (;;) {
      yield FIRST[idx[0]] + idx.slice(1).map((i) => REST[i]).join("");
      let k = len - 1;
      while (k >= 0 && ++idx[k] === (k === 0 ? FIRST : REST).length) idx[k--] = 0;
      if (k < 0) break;
    }
  }
}
const gen = names();
// Exports and (web) import keys are property names, but bundler imports become
// module-scope bindings of fauna_session_bg.js: never reuse an identifier of the glue.
function nextName() {
  for (;;) {
    const n = gen.next().value;
    if (!RESERVED.has(n) && !(target === "bundler" && identifiers.has(n))) return n;
  }
}

const ident = (name) => /^[A-Za-z_$][\w$]*$/.test(name);
const escape = (s) => s.replace(/[$]/g, "\\$");
const word = (name) => new RegExp(`(?<![\\w$])${escape(name)}(?![\\w$])`, "g");
const count = (text, re) => (text.match(re) || []).length;

if (/^[a-zA-Z$_]{1,2}$/.test(imports.find((i) => i.module === BG_MODULE)?.name ?? "x_x_x"))
  die(`${dir} looks shrunk already (short import names)`);
const bgImports = imports.filter((i) => i.module === BG_MODULE);
if (bgImports.length === 0) die(`the wasm imports nothing from "${BG_MODULE}" (shrunk already?)`);

const importMap = new Map(); // old name -> new name
for (const imp of bgImports) {
  if (!ident(imp.name)) die(`import name ${JSON.stringify(imp.name)} is not a JS identifier`);
  if (!importMap.has(imp.name)) importMap.set(imp.name, nextName());
}

const exportMap = new Map();
const kept = [];
// Exports the glue never uses (wasm-bindgen's `__wbindgen_free` when nothing frees a string the JS side made, the
// `__abort_handler` and `__instance_terminated` globals of its abort handling): nothing can call them, so they are
// dropped, and the wasm-opt run after this script (wasm-post.sh's post_process) removes what only they reached.
const dropped = [];
for (const exp of exports) {
  const uses = count(allText, new RegExp(`(?<![\\w$])wasm\\.${escape(exp.name)}(?![\\w$])`, "g"));
  if (exp.name !== "memory" && uses === 0) dropped.push(exp.name);
  else if (exp.name === "memory" || !ident(exp.name)) kept.push(exp.name);
  else exportMap.set(exp.name, nextName());
}

// ---------------------------------------------------------------- rewrite the glue

const out = { ...glue };

// Three pieces of the glue no browser that runs this module needs (it uses sign-ext, non-trapping float-to-int and bulk
// memory: Chrome 75, Firefox 79, Safari 15 and later), each cut where wasm-bindgen 0.2.130 writes it. A glue without
// the exact text fails the build (a wasm-bindgen upgrade must be looked at, not guessed at):
//  - the TextEncoder#encodeInto polyfill (encodeInto: Chrome 74, Firefox 66, Safari 14.1);
//  - the no-op stand-in for a missing FinalizationRegistry (Chrome 84, Firefox 79, Safari 14.1);
//  - initSync's warning for its deprecated argument form (bytes or a Module, not `{ module }`): that form still
//    works, without the console.warn (index.js passes `{ module }`).
// Together about 120 bytes gzipped of every app (scripts/size-report.sh).
const loose = (text) => new RegExp(text.trim().split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\s*"), "g");
const TRIMS = [
  {
    what: "the TextEncoder#encodeInto polyfill",
    targets: ["web", "bundler"],
    find: `if (!('encodeInto' in cachedTextEncoder)) {
      cachedTextEncoder.encodeInto = function (arg, view) {
        const buf = cachedTextEncoder.encode(arg);
        view.set(buf);
        return { read: arg.length, written: buf.length };
      };
    }`,
    replace: "",
  },
  {
    what: "the FinalizationRegistry fallback",
    targets: ["web", "bundler"],
    find: `(typeof FinalizationRegistry === 'undefined')
      ? { register: () => {}, unregister: () => {} }
      : new FinalizationRegistry(`,
    replace: "new FinalizationRegistry(",
  },
  {
    what: "initSync's deprecated-arguments warning",
    targets: ["web"],
    find: `if (module !== undefined) {
      if (Object.getPrototypeOf(module) === Object.prototype) { ({module} = module) }
      else { console.warn('using deprecated parameters for \`initSync()\`; pass a single object instead') }
    }`,
    replace: "if (module !== undefined && Object.getPrototypeOf(module) === Object.prototype) ({ module } = module);",
  },
];
for (const t of TRIMS.filter((t) => t.targets.includes(target))) {
  const re = loose(t.find);
  const hits = Object.entries(out).filter(([, text]) => count(text, re) > 0);
  if (hits.length !== 1 || count(hits[0][1], re) !== 1) die(`${t.what}: not found exactly once in the glue`);
  out[hits[0][0]] = hits[0][1].replace(re, t.replace);
}

for (const [oldName, newName] of importMap) {
  const defs = Object.entries(out).filter(([, text]) =>
    target === "web"
      ? new RegExp(`(?<![\\w$.])${escape(oldName)}\\s*:`).test(text)
      : new RegExp(`\\bexport\\s+(?:function|const|let|var)\\s+${escape(oldName)}(?![\\w$])`).test(text),
  );
  if (defs.length !== 1) die(`import ${oldName}: defined ${defs.length} times in the glue, expected once`);
  const [file] = defs[0];
  out[file] = out[file].replace(word(oldName), newName);
}
for (const [oldName, newName] of exportMap) {
  const re = new RegExp(`(?<![\\w$])wasm\\.${escape(oldName)}(?![\\w$])`, "g");
  for (const f of Object.keys(out)) out[f] = out[f].replace(re, `wasm.${newName}`);
}
let newModule = BG_MODULE;
if (target === "web") {
  // The web glue hands the wasm an imports object; its module key is private to the two.
  newModule = "a";
  const re = new RegExp(`(["'])${escape(BG_MODULE.replace(/\./g, "\\."))}\\1(?=\\s*:)`, "g");
  const f = `${NAME}.js`;
  if (count(out[f], re) !== 1) die(`"${BG_MODULE}" is not exactly once an object key in ${f}`);
  if (imports.some((i) => i.module === newModule)) die(`the wasm already imports a module "${newModule}"`);
  out[f] = out[f].replace(re, `"${newModule}"`);
}
for (const [f, text] of Object.entries(out)) {
  for (const oldName of importMap.keys())
    if (word(oldName).test(text)) die(`${f}: ${oldName} is still there after renaming`);
  for (const oldName of exportMap.keys())
    if (new RegExp(`wasm\\.${escape(oldName)}(?![\\w$])`).test(text)) die(`${f}: wasm.${oldName} is still there`);
}

// ---------------------------------------------------------------- rewrite the wasm

const newImports = imports.map((i) =>
  i.module === BG_MODULE ? { ...i, module: newModule, name: importMap.get(i.name) } : i,
);
const newExports = exports
  .filter((e) => !dropped.includes(e.name))
  .map((e) => (exportMap.has(e.name) ? { ...e, name: exportMap.get(e.name) } : e));
const entries = (list, encode) => Buffer.concat([u32Bytes(list.length), ...list.map(encode)]);
const newWasm = rebuild(
  wasm,
  secs,
  new Map([
    [importSec, entries(newImports, (i) => Buffer.concat([nameBytes(i.module), nameBytes(i.name), i.desc]))],
    [exportSec, entries(newExports, (e) => Buffer.concat([nameBytes(e.name), e.desc]))],
  ]),
);
if (!WebAssembly.validate(newWasm)) die("the rewritten wasm does not validate");
// Re-parse: sections of the rewritten module must round-trip.
{
  const s2 = sections(newWasm);
  const i2 = parseImports(newWasm.subarray(s2.find((s) => s.id === 2).start, s2.find((s) => s.id === 2).end));
  if (i2.length !== imports.length) die("import count changed");
}

// ---------------------------------------------------------------- minify the glue

const WASM_URL = new RegExp(`new URL\\(\\s*["']${NAME}_bg\\.wasm["']\\s*,\\s*import\\.meta\\.url\\s*\\)`);
const minified = {};
for (const [f, text] of Object.entries(out)) {
  const selfTypes = text.match(/^\/\*\s*@ts-self-types="[^"]*"\s*\*\//m)?.[0];
  // A file with static imports or re-exports is only parse-checked and kept as it is: that
  // is bundler's fauna_session.js, ~600 bytes that esbuild makes longer (it splits the
  // `export { … } from`), whose `import … from "…"` lines stay in the usual spelling that
  // regex-based scanners recognise (e2e/tests/npm-package.test.mjs follows them).
  const links = /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']|^\s*import\s*["']/m.test(text);
  let code;
  try {
    const result = transformSync(text, {
      loader: "js",
      format: "esm",
      minify: !links,
      legalComments: "none",
      charset: "utf8",
      sourcefile: f,
    });
    code = links ? text : result.code;
  } catch (e) {
    die(`esbuild failed on ${f}: ${e.message}`);
  }
  if (links) {
    minified[f] = code;
    continue;
  }
  if (WASM_URL.test(glue[f]) && !WASM_URL.test(code)) die(`${f}: the new URL(…_bg.wasm, import.meta.url) was lost`);
  minified[f] = (selfTypes ? selfTypes + "\n" : "") + code;
}

// The .d.ts files name the wasm's exports as members: `readonly NAME:` of `InitOutput` (the web build's .d.ts) and
// `export const NAME:` (fauna_session_bg.wasm.d.ts). Rename them there, and only there: an API function has the same
// name as its wasm export, and its own declaration (`export function getUserId(…)`) must stay.
const MEMBER = "\\b(?:readonly|export\\s+const)\\s+";
const member = (name) => new RegExp(`(?<=${MEMBER})${escape(name)}(?=\\s*:)`, "g");
const memberLine = (name) => new RegExp(`^\\s*${MEMBER}${escape(name)}\\s*:[^\\n]*\\n`, "gm");
const types = {};
for (const f of readdirSync(dir).filter((f) => f.endsWith(".d.ts"))) {
  let text = readFileSync(join(dir, f), "utf8");
  for (const [oldName, newName] of exportMap) text = text.replace(member(oldName), newName);
  for (const name of dropped) text = text.replace(memberLine(name), "");
  for (const oldName of exportMap.keys()) if (member(oldName).test(text)) die(`${f}: ${oldName} is still there`);
  const api = (t) => [...t.matchAll(/\bexport\s+(?:declare\s+)?function\s+([A-Za-z_$][\w$]*)/g)].map((m) => m[1]).join();
  if (api(text) !== api(readFileSync(join(dir, f), "utf8"))) die(`${f}: renaming changed the declared API functions`);
  types[f] = text;
}

writeFileSync(wasmPath, newWasm);
for (const [f, code] of Object.entries(minified)) writeFileSync(join(dir, f), code);
for (const [f, text] of Object.entries(types)) writeFileSync(join(dir, f), text);

const jsBefore = Object.values(glue).reduce((n, t) => n + Buffer.byteLength(t), 0);
const jsAfter = Object.values(minified).reduce((n, t) => n + Buffer.byteLength(t), 0);
console.error(
  `shrink (${target}): renamed ${importMap.size} imports, ${exportMap.size} exports (kept ${kept.join(", ")}; ` +
    `dropped ${dropped.join(", ") || "none"}); ` +
    `wasm ${wasm.length} -> ${newWasm.length} B, JS ${jsBefore} -> ${jsAfter} B`,
);
