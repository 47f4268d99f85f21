#!/usr/bin/env node
// low-memory.mjs — checks that a module leaves its first 1024 bytes of memory unused, so wasm-opt may be told so.
//
//   node pkg-template/build-tools/low-memory.mjs <file.wasm>
//
// Why: wasm-opt's `--low-memory-unused` lets it fold the constant part of an address into the load's or store's
// offset (`i32.load offset=8 (p)` instead of `i32.load (i32.add p 8)`), which is only the same program when no
// address below 1024 is ever used. For the npm build that saves about 180 bytes gzipped (scripts/size-report.sh).
//
// When it holds: rustc's wasm32 linker output starts every data segment at or above 1024 (today at 1 MiB, with
// the stack below them and growing down toward 0: reaching address 1023 would take a stack about 1 MiB deep, which
// is a stack overflow either way), the heap grows above the data, and the module owns its memory (an imported one
// could be written by anyone). This script checks the two things a linker or wasm-bindgen change could break: the
// memory is defined by the module, not imported, and every data segment is placed by an `i32.const` at 1024 or
// above. Anything else (an imported memory, a segment below 1024, an offset that is not a constant) fails the
// build here, before wasm-opt runs with the flag.
import { readFileSync } from "node:fs";
import { die, checkModule, sections, parseImports, Reader } from "./wasm-module.mjs";

export const LOW_MEMORY = 1024;

const [path] = process.argv.slice(2);
if (!path) die("usage: low-memory.mjs <file.wasm>");
const wasm = readFileSync(path);
checkModule(wasm, path);
const secs = sections(wasm);

const imports = secs.find((s) => s.id === 2);
if (imports) {
  for (const i of parseImports(wasm.subarray(imports.start, imports.end))) {
    if (i.desc[0] === 2) die(`the memory is imported (${i.module}.${i.name}): its low bytes may be in use`);
  }
}

/** A signed LEB128 i32 (an `i32.const` immediate). */
function i32(r) {
  let result = 0, shift = 0, b;
  do {
    b = r.byte();
    result |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  if (shift < 32 && b & 0x40) result |= -1 << shift;
  return result;
}

const data = secs.find((s) => s.id === 11);
let lowest = Infinity;
if (data) {
  const r = new Reader(wasm.subarray(data.start, data.end));
  for (let n = r.u32(), i = 0; i < n; i++) {
    const flags = r.u32();
    if (flags !== 1) {
      if (flags === 2) r.u32(); // memory index
      else if (flags !== 0) die(`data segment ${i} has flags ${flags}, which this check does not know`);
      if (r.byte() !== 0x41) die(`data segment ${i} is not placed by an i32.const`);
      const offset = i32(r);
      if (r.byte() !== 0x0b) die(`data segment ${i}'s offset is not a lone i32.const`);
      if (offset < 0 || offset < LOW_MEMORY) die(`data segment ${i} starts at ${offset}, below ${LOW_MEMORY}`);
      lowest = Math.min(lowest, offset);
    }
    const len = r.u32();
    r.pos += len; // the bytes
  }
}
console.error(`low-memory: memory not imported, data segments from ${lowest === Infinity ? "(none)" : lowest}: addresses below ${LOW_MEMORY} unused`);
