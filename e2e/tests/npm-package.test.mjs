// Checks the built npm package (scripts/build-npm.sh → pkg/) the way a user gets it:
//  1. `npm pack --dry-run --json` lists every file that the package's entry points
//     import, directly or transitively (JS imports, .wasm URLs, snippets, .d.ts);
//  2. the packed tarball, installed into a scratch node_modules, type-checks a
//     TypeScript file that uses the published API (`tsc --noEmit`, strict).
//
// Run: node --test tests/npm-package.test.mjs   (PKG_DIR overrides ../pkg)
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const PKG = resolve(process.env.PKG_DIR ?? join(here, "../../pkg"));
const TSC = join(here, "../node_modules/typescript/bin/tsc");

assert.ok(existsSync(join(PKG, "package.json")), `no package at ${PKG}: run scripts/build-npm.sh first`);
const manifest = JSON.parse(readFileSync(join(PKG, "package.json"), "utf8"));

function packedFiles() {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json"], { cwd: PKG, encoding: "utf8" });
  const [info] = JSON.parse(out);
  return { info, files: new Set(info.files.map((f) => posix.normalize(f.path))) };
}

/** Every string the package.json points at: main, types, module and all `exports` targets. */
function entryPoints() {
  const entries = [manifest.main, manifest.module, manifest.types];
  const walk = (value) => {
    if (typeof value === "string") entries.push(value);
    else if (value && typeof value === "object") Object.values(value).forEach(walk);
  };
  walk(manifest.exports);
  return [...new Set(entries.filter(Boolean).map((p) => posix.normalize(p)))];
}

/** Relative module specifiers a JS or .d.ts file refers to. */
function referencedSpecifiers(source) {
  const references = [...source.matchAll(/\/\/\/\s*<reference\s+path=["']([^"']+)["']/g)].map((m) => m[1]);
  // Comments may show example imports ("import … from 'fauna-session'"): drop them.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const patterns = [
    /\b(?:import|export)\s[^'";]*?\bfrom\s*["']([^"']+)["']/g, // import x from "…", export * from "…"
    /\bimport\s*["']([^"']+)["']/g, // import "…"
    /\bimport\(\s*["']([^"']+)["']\s*\)/g, // import("…")
  ];
  // `new URL("x.wasm", import.meta.url)` is relative even without "./".
  const urls = [...code.matchAll(/\bnew URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g)]
    .map((m) => m[1])
    .filter((u) => !/^[a-z][a-z0-9+.-]*:/i.test(u))
    .map((u) => (u.startsWith(".") ? u : `./${u}`));
  return [...references, ...urls, ...patterns.flatMap((re) => [...code.matchAll(re)].map((m) => m[1]))];
}

test("package.json has the fields the template promises", () => {
  assert.equal(manifest.name, "fauna-session");
  assert.match(manifest.version, /^\d+\.\d+\.\d+/);
  for (const field of ["description", "license", "exports", "types", "sideEffects", "keywords", "repository", "files"]) {
    assert.ok(manifest[field], `package.json lacks "${field}"`);
  }
  for (const sub of [".", "./web", "./bundler"]) {
    assert.ok(manifest.exports[sub]?.types, `exports["${sub}"] has no types`);
    assert.ok(manifest.exports[sub]?.import, `exports["${sub}"] has no import`);
  }
});

test("npm pack includes every file the package imports", () => {
  const { info, files } = packedFiles();
  const missing = [];
  const seen = new Set();
  const queue = entryPoints().map((p) => ({ path: p, from: "package.json" }));
  while (queue.length > 0) {
    const { path, from } = queue.shift();
    if (seen.has(path)) continue;
    seen.add(path);
    if (!files.has(path)) {
      missing.push(`${path} (imported by ${from})`);
      continue;
    }
    if (!/\.(m?js|d\.ts)$/.test(path)) continue;
    const isTypes = path.endsWith(".d.ts");
    for (const spec of referencedSpecifiers(readFileSync(join(PKG, path), "utf8"))) {
      if (!spec.startsWith(".")) {
        // A bare import must be a declared dependency.
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
        assert.ok(manifest.dependencies?.[name], `${path} imports "${spec}", not a dependency`);
        continue;
      }
      let target = posix.normalize(posix.join(posix.dirname(path), spec));
      // A .d.ts that says "./x.js" means the types in "./x.d.ts".
      if (isTypes && target.endsWith(".js")) target = target.replace(/\.js$/, ".d.ts");
      queue.push({ path: target, from: path });
    }
  }
  assert.deepEqual(missing, [], `files imported but not packed:\n${missing.join("\n")}`);
  // The two builds and their wasm were all reached from the entry points.
  for (const f of ["web/fauna_session_bg.wasm", "bundler/fauna_session_bg.wasm", "bundler/fauna_session_bg.js"]) {
    assert.ok(seen.has(f), `${f} is not reachable from package.json`);
  }
  const wasm = readFileSync(join(PKG, "web/fauna_session_bg.wasm"));
  console.log(
    `package: ${info.entryCount} files, tarball ${info.size} B, unpacked ${info.unpackedSize} B; ` +
      `web wasm ${wasm.length} B (${gzipSync(wasm, { level: 9 }).length} B gzip)`,
  );
});

test("the packed tarball type-checks a consumer with tsc --noEmit", () => {
  const dir = mkdtempSync(join(tmpdir(), "fauna-session-tsc-"));
  try {
    const tarball = execFileSync("npm", ["pack", "--pack-destination", dir, "--silent"], { cwd: PKG, encoding: "utf8" }).trim().split("\n").pop();
    const installed = join(dir, "node_modules", "fauna-session");
    mkdirSync(installed, { recursive: true });
    execFileSync("tar", ["-xzf", join(dir, tarball), "-C", installed, "--strip-components=1"]);
    copyFileSync(join(here, "fixtures", "consumer.ts"), join(dir, "consumer.ts"));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: "es2022",
          module: "esnext",
          moduleResolution: "bundler",
          lib: ["es2022", "dom"],
          types: [],
          skipLibCheck: false,
        },
        files: ["consumer.ts"],
      }),
    );
    try {
      execFileSync(process.execPath, [TSC, "-p", dir], { cwd: dir, encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      assert.fail(`tsc --noEmit failed:\n${e.stdout}${e.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
