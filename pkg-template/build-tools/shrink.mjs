#!/usr/bin/env node
// shrink.mjs — post-processes one wasm-bindgen output directory to make the shipped
// package smaller, without changing its public API.
//
//   node pkg-template/build-tools/shrink.mjs <dir> <web|bundler>
//
// <dir> holds wasm-bindgen's (or wasm-pack's) output with --out-name fauna_session,
// after wasm-opt: fauna_session_bg.wasm, fauna_session.js and, for --target bundler,
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
//     Kept: `memory` and exports whose name is also a JS export of the glue (the API:
//     init, getUserId, …), so `InitOutput` keeps its meaningful members; exports the
//     glue never uses (nothing to match them against); imports of other modules
//     (snippets), whose names are those files' exports. The internal members of
//     `InitOutput` (web .d.ts) and of fauna_session_bg.wasm.d.ts (__wbindgen_malloc, the
//     closure shims, …) keep their old names in the untouched .d.ts files: no app uses
//     them, but the raw wasm exports of those are now the short names.
//  2. Minifies every .js file of the glue with esbuild (ESM in, ESM out; exported names
//     are kept, so the .d.ts files, which this script never touches, still match; a file
//     with `import … from` lines is only parse-checked, see below). The
//     `new URL("fauna_session_bg.wasm", import.meta.url)` that Vite and webpack rewrite
//     is checked to survive; the `@ts-self-types` comment is kept.
import { readFileSync, writeFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { transformSync } from "esbuild";

const [dir, target] = process.argv.slice(2);
const die = (msg) => {
  console.error(`shrink: ${msg}`);
  process.exit(1);
};
if (!dir || !["web", "bundler"].includes(target)) die("usage: shrink.mjs <dir> <web|bundler>");

const NAME = "fauna_session";
const BG_MODULE = `./${NAME}_bg.js`; // the module name wasm-bindgen gives the glue's imports
const wasmPath = join(dir, `${NAME}_bg.wasm`);
const jsFiles = readdirSync(dir).filter((f) => f.endsWith(".js")).sort();
const expected = target === "web" ? [`${NAME}.js`] : [`${NAME}.js`, `${NAME}_bg.js`];
for (const f of expected) if (!jsFiles.includes(f)) die(`${join(dir, f)} is missing`);
const glue = Object.fromEntries(jsFiles.map((f) => [f, readFileSync(join(dir, f), "utf8")]));

// ---------------------------------------------------------------- wasm sections

class Reader {
  constructor(buf, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }
  byte() {
    if (this.pos >= this.buf.length) die("truncated wasm");
    return this.buf[this.pos++];
  }
  u32() {
    let result = 0, shift = 0, b;
    do {
      b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return result;
  }
  bytes(n) {
    if (this.pos + n > this.buf.length) die("truncated wasm");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  name() {
    return new TextDecoder("utf-8", { fatal: true }).decode(this.bytes(this.u32()));
  }
  limits() {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }
  reftype() {
    const t = this.byte();
    if (t === 0x63 || t === 0x64) this.u32(); // (ref null? heaptype): index or abstract type
  }
}

const u32Bytes = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
};
const nameBytes = (s) => {
  const b = Buffer.from(s, "utf8");
  return Buffer.concat([u32Bytes(b.length), b]);
};

const wasm = readFileSync(wasmPath);
if (wasm.readUInt32BE(0) !== 0x0061736d || wasm.readUInt32LE(4) !== 1) die(`${wasmPath} is not a wasm module`);

/** Sections as { id, start, end } of their payloads. */
function sections(buf) {
  const r = new Reader(buf, 8);
  const out = [];
  while (r.pos < buf.length) {
    const id = r.byte();
    const size = r.u32();
    out.push({ id, start: r.pos, end: r.pos + size });
    r.pos += size;
  }
  return out;
}

/** Import entries: { module, name, desc: Buffer (the kind byte and its type) }. */
function parseImports(payload) {
  const r = new Reader(payload);
  const n = r.u32();
  const out = [];
  for (let i = 0; i < n; i++) {
    const module = r.name();
    const name = r.name();
    const descStart = r.pos;
    const kind = r.byte();
    if (kind === 0) r.u32(); // func: type index
    else if (kind === 1) (r.reftype(), r.limits()); // table
    else if (kind === 2) r.limits(); // memory
    else if (kind === 3) (r.reftype(), r.byte()); // global: valtype, mutability
    else if (kind === 4) (r.byte(), r.u32()); // tag: attribute, type index
    else die(`unknown import kind ${kind} for ${module}.${name}`);
    out.push({ module, name, desc: payload.subarray(descStart, r.pos) });
  }
  if (r.pos !== payload.length) die("import section has trailing bytes");
  return out;
}

/** Export entries: { name, desc: Buffer (kind byte and index) }. */
function parseExports(payload) {
  const r = new Reader(payload);
  const n = r.u32();
  const out = [];
  for (let i = 0; i < n; i++) {
    const name = r.name();
    const descStart = r.pos;
    r.byte();
    r.u32();
    out.push({ name, desc: payload.subarray(descStart, r.pos) });
  }
  if (r.pos !== payload.length) die("export section has trailing bytes");
  return out;
}

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

const jsExported = new Set(
  [...allText.matchAll(/\bexport\s+(?:async\s+)?(?:function\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)/g)].map((m) => m[1]),
);
const exportMap = new Map();
const kept = [];
for (const exp of exports) {
  const uses = count(allText, new RegExp(`(?<![\\w$])wasm\\.${escape(exp.name)}(?![\\w$])`, "g"));
  if (exp.name === "memory" || jsExported.has(exp.name) || !ident(exp.name) || uses === 0) kept.push(exp.name);
  else exportMap.set(exp.name, nextName());
}

// ---------------------------------------------------------------- rewrite the glue

const out = { ...glue };
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
const newExports = exports.map((e) => (exportMap.has(e.name) ? { ...e, name: exportMap.get(e.name) } : e));
const section = (id, entries, encode) => {
  const payload = Buffer.concat([u32Bytes(entries.length), ...entries.map(encode)]);
  return Buffer.concat([Buffer.from([id]), u32Bytes(payload.length), payload]);
};
const parts = [wasm.subarray(0, 8)];
for (const s of secs) {
  const headerStart = s.start - 1 - u32Bytes(s.end - s.start).length;
  if (s === importSec)
    parts.push(section(2, newImports, (i) => Buffer.concat([nameBytes(i.module), nameBytes(i.name), i.desc])));
  else if (s === exportSec) parts.push(section(7, newExports, (e) => Buffer.concat([nameBytes(e.name), e.desc])));
  else parts.push(wasm.subarray(headerStart, s.end));
}
const newWasm = Buffer.concat(parts);
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

writeFileSync(wasmPath, newWasm);
for (const [f, code] of Object.entries(minified)) writeFileSync(join(dir, f), code);

const jsBefore = Object.values(glue).reduce((n, t) => n + Buffer.byteLength(t), 0);
const jsAfter = Object.values(minified).reduce((n, t) => n + Buffer.byteLength(t), 0);
console.error(
  `shrink (${target}): renamed ${importMap.size} imports, ${exportMap.size} exports (kept ${kept.join(", ")}); ` +
    `wasm ${wasm.length} -> ${newWasm.length} B, JS ${jsBefore} -> ${jsAfter} B`,
);
