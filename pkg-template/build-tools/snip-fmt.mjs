#!/usr/bin/env node
// snip-fmt.mjs — removes dead `core::fmt` code from the no_std npm build's wasm, in place.
//
//   node pkg-template/build-tools/snip-fmt.mjs <file.wasm>
//
// Run it on wasm-bindgen's output (it needs the `name` section, which wasm-opt then drops),
// before wasm-opt.
//
// Why: the npm flavour is no_std and its panic handler traps without reading the message.
// Still, every panic site in core (a RefCell already borrowed, an index out of bounds, …)
// builds its message's `fmt::Arguments` in data, and those hold pointers to `Display::fmt`
// functions (`<u32 as Display>::fmt`, `Formatter::pad`, …). A function whose address is in
// data sits in the function table, so neither the linker nor wasm-opt can drop it, though
// nothing will ever call it. That is about 1 KB gzipped.
//
// What: if the module has no `core::fmt::write` (the one function that runs formatting code:
// every `format!`, `write!` and `Display` use goes through it), no `core::fmt` function can
// run, so the body of every `<… as core::fmt::{Display,Debug,…}>::fmt` and every
// `core::fmt::Formatter` method becomes `unreachable`; wasm-opt then drops what only they
// called. With `core::fmt::write` present (a std build, or code that formats) it changes
// nothing and says so. This is what `wasm-snip --snip-rust-fmt-code` does, with the safety
// check added.
import { readFileSync, writeFileSync } from "node:fs";
import { die, checkModule, sections, parseImports, Reader, u32Bytes, rebuild } from "./wasm-module.mjs";

const [path] = process.argv.slice(2);
if (!path) die("usage: snip-fmt.mjs <file.wasm>");
const wasm = readFileSync(path);
checkModule(wasm, path);
const secs = sections(wasm);

// Function names by function index (imports first), from the `name` custom section.
const names = new Map();
for (const s of secs.filter((s) => s.id === 0)) {
  const r = new Reader(wasm.subarray(s.start, s.end));
  if (r.name() !== "name") continue;
  while (r.pos < r.buf.length) {
    const sub = r.byte();
    const end = r.u32() + r.pos;
    if (sub === 1) for (let n = r.u32(); n > 0; n--) names.set(r.u32(), r.name());
    r.pos = end;
  }
}
if (names.size === 0) die(`${path} has no function names: run this on wasm-bindgen's output, before wasm-opt`);

const fmtName = /^core\[[0-9a-f]+\]::fmt::write$|^core::fmt::write$/;
const snipName =
  /^<[^>]* as core(?:\[[0-9a-f]+\])?::fmt::[A-Za-z]+>::fmt$|^<core(?:\[[0-9a-f]+\])?::fmt::Formatter(?:<[^>]*>)?>::/;
const writer = [...names.values()].find((n) => fmtName.test(n));
if (writer) {
  console.error(`snip-fmt: ${writer} is present (this build formats), nothing snipped`);
  process.exit(0);
}

const importSec = secs.find((s) => s.id === 2);
const imported = importSec
  ? parseImports(wasm.subarray(importSec.start, importSec.end)).filter((i) => i.desc[0] === 0).length
  : 0;
const codeSec = secs.find((s) => s.id === 10);
if (!codeSec) die(`${path} has no code section`);
const r = new Reader(wasm.subarray(codeSec.start, codeSec.end));
const bodies = [];
for (let n = r.u32(); n > 0; n--) bodies.push(r.bytes(r.u32()));
if (r.pos !== r.buf.length) die("code section has trailing bytes");

// No locals, `unreachable`, `end`: valid for any function type.
const TRAP = Buffer.from([0x00, 0x00, 0x0b]);
let snipped = 0;
let saved = 0;
const newBodies = bodies.map((body, i) => {
  if (!snipName.test(names.get(imported + i) ?? "")) return body;
  snipped++;
  saved += body.length - TRAP.length;
  return TRAP;
});
if (snipped === 0) {
  console.error("snip-fmt: no core::fmt functions found, nothing snipped");
  process.exit(0);
}
const payload = Buffer.concat([u32Bytes(newBodies.length), ...newBodies.flatMap((b) => [u32Bytes(b.length), b])]);
const out = rebuild(wasm, secs, new Map([[codeSec, payload]]));
if (!WebAssembly.validate(out)) die("the snipped wasm does not validate");
writeFileSync(path, out);
console.error(`snip-fmt: ${snipped} core::fmt functions made unreachable (${saved} bytes of code)`);
