// wasm-module.mjs — the small WebAssembly binary reader/writer shared by shrink.mjs and
// low-memory.mjs: LEB128 numbers, names, the section list, import and export entries, and
// re-assembling a module with some section payloads replaced. Failures end the process
// with a message prefixed by the running script's name.
import { basename } from "node:path";

export const die = (msg) => {
  console.error(`${basename(process.argv[1] ?? "wasm", ".mjs")}: ${msg}`);
  process.exit(1);
};

export class Reader {
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

export const u32Bytes = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
};
export const nameBytes = (s) => {
  const b = Buffer.from(s, "utf8");
  return Buffer.concat([u32Bytes(b.length), b]);
};

/** Sections as { id, start, end } of their payloads. */
export function sections(buf) {
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
export function parseImports(payload) {
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
export function parseExports(payload) {
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

/** Checks the magic number and version of a module. */
export function checkModule(buf, what) {
  if (buf.length < 8 || buf.readUInt32BE(0) !== 0x0061736d || buf.readUInt32LE(4) !== 1) die(`${what} is not a wasm module`);
}

/** The module `buf` (with its `secs`) with the payloads of the sections in `replaced` (a Map section -> Buffer). */
export function rebuild(buf, secs, replaced) {
  const parts = [buf.subarray(0, 8)];
  for (const s of secs) {
    const payload = replaced.get(s);
    if (payload) parts.push(Buffer.from([s.id]), u32Bytes(payload.length), payload);
    else parts.push(buf.subarray(s.start - 1 - u32Bytes(s.end - s.start).length, s.end));
  }
  return Buffer.concat(parts);
}

/**
 * Why the module is not made of MVP values, or null if it is: a function type with an `externref` (0x6f) parameter
 * or result, or with more than one result (multivalue), or a table of `externref`. `funcref` tables (indirect
 * calls) are MVP.
 */
export function nonMvpValues(buf) {
  const secs = sections(buf);
  const types = secs.find((s) => s.id === 1);
  if (types) {
    const r = new Reader(buf.subarray(types.start, types.end));
    for (let n = r.u32(), i = 0; i < n; i++) {
      if (r.byte() !== 0x60) return `type ${i} is not a function type`;
      const params = r.bytes(r.u32());
      const results = r.bytes(r.u32());
      // Typed references (0x63, 0x64) take more than a byte; a module using them is not MVP either way.
      if ([...params, ...results].some((t) => t === 0x63 || t === 0x64)) return `function type ${i} uses typed references`;
      if (params.includes(0x6f) || results.includes(0x6f)) return `function type ${i} passes an externref`;
      if (results.length > 1) return `function type ${i} returns ${results.length} values (multivalue)`;
    }
  }
  const tables = secs.find((s) => s.id === 4);
  if (tables) {
    const r = new Reader(buf.subarray(tables.start, tables.end));
    for (let n = r.u32(), i = 0; i < n; i++) {
      if (r.byte() === 0x6f) return `table ${i} holds externrefs`;
      r.limits();
    }
  }
  return null;
}
