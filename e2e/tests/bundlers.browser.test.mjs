// The npm package as users build it: the packed tarball (npm pack of pkg/) installed into a scratch app, the same
// one-page app built with Vite, webpack 5 and Rollup and loaded as native ES modules (an import map), each page
// served over loopback HTTP and loaded in the Debian Chromium. The page imports the package, lets it load its
// WebAssembly, calls init and the API; it must answer without a page error.
//
// Run: node --test tests/bundlers.browser.test.mjs   (PKG_DIR overrides ../pkg)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { contentType, installPackedPackage, launch, serveFiles } from "./browser.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const PKG = resolve(process.env.PKG_DIR ?? join(here, "../../pkg"));
assert.ok(existsSync(join(PKG, "package.json")), `no package at ${PKG}: run scripts/build-npm.sh first`);

// What every build runs: the package's API on a page that is known signed out (the marker cookie without a front
// token), so no network is needed; `patched` tells init replaced window.fetch.
const APP = `import { init, doesSessionExist, getAccessToken } from "fauna-session";
const out = document.getElementById("out");
try {
  document.cookie = "st-last-access-token-update=1;path=/";
  const nativeFetch = window.fetch;
  init({ apiDomain: location.origin });
  const exists = await doesSessionExist();
  const token = await getAccessToken();
  out.textContent = JSON.stringify({ patched: window.fetch !== nativeFetch, exists, token: token ?? null });
} catch (e) {
  out.textContent = "error: " + ((e && e.stack) || e);
}
`;
const EXPECTED = { patched: true, exists: false, token: null };
const page = (script, head = "") =>
  `<!doctype html><html><head><meta charset="utf-8">${head}</head><body><pre id="out"></pre>` +
  `<script type="module" src="${script}"></script></body></html>`;

let work;
let app;
let server;
let origin;
let octet;
let noWasm;
let chromium;

before(async () => {
  ({ work, app } = installPackedPackage(PKG, "bundlers"));
  mkdirSync(join(app, "src"), { recursive: true });
  writeFileSync(join(app, "src/main.js"), APP);
  // Every build goes to app/<name>/, served from app/ (so native ESM can reach node_modules/).
  ({ server, origin } = await serveFiles(app));
  // The same files from a server that sends the .wasm as application/octet-stream (one that does not know the
  // type: WebAssembly.compileStreaming refuses it, and index.js compiles the bytes instead), and from one without it.
  const wasmAs = (sent) => (file) => (file.endsWith(".wasm") ? sent : contentType(file));
  octet = await serveFiles(app, undefined, wasmAs("application/octet-stream"));
  noWasm = await serveFiles(app, undefined, wasmAs(null));
  chromium = await launch();
});

after(async () => {
  await chromium?.browser.close();
  server?.close();
  octet?.server.close();
  noWasm?.server.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * The bundle in `dir` holds none of the exports APP does not import: index.js marks its exports pure, so a bundler
 * drops the unused ones with their web-build wrappers. The markers are what only those exports carry: the SSR
 * fallback's message ("no browser here") of getUserId, listSessions and the other rejecting calls, and the "st-ev"
 * string of the SSR EmailVerificationClaim (APP's init, doesSessionExist and getAccessToken have neither; Rollup
 * keeps comments, which mention neither in that spelling).
 */
function assertTreeShaken(dir) {
  const js = readdirSync(dir, { recursive: true })
    .filter((f) => String(f).endsWith(".js"))
    .map((f) => readFileSync(join(dir, String(f)), "utf8"))
    .join("\n");
  assert.ok(js.length > 0, `${dir}: no JavaScript`);
  assert.doesNotMatch(js, /no browser here/, `${dir}: the rejecting calls were not dropped`);
  assert.doesNotMatch(js, /"st-ev"/, `${dir}: EmailVerificationClaim was not dropped`);
}

async function check(name, at = origin) {
  const { page: tab, pageErrors, consoleLines } = chromium;
  pageErrors.length = 0;
  await tab.goto(`${at}/${name}/`);
  await tab.waitForFunction(() => document.getElementById("out")?.textContent !== "", null, { timeout: 20_000 });
  const text = await tab.textContent("#out");
  assert.deepEqual(pageErrors, [], `${name}: page errors; console:\n${consoleLines.join("\n")}`);
  assert.ok(!text.startsWith("error:"), `${name}: ${text}`);
  assert.deepEqual(JSON.parse(text), EXPECTED, name);
  // A fresh origin state for the next build's page.
  await tab.context().clearCookies();
}

test("Vite", async () => {
  const { build } = await import("vite");
  // Inside the app, so "fauna-session" resolves from its node_modules.
  const root = join(app, "vite-src");
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "index.html"), page("./main.js"));
  copyFileSync(join(app, "src/main.js"), join(root, "main.js"));
  await build({
    root,
    base: "./",
    logLevel: "error",
    configFile: false,
    cacheDir: join(work, ".vite"),
    build: { outDir: join(app, "vite"), emptyOutDir: true }, // Vite's default target: no top-level await
  });
  assertTreeShaken(join(app, "vite"));
  await check("vite");
});

test("webpack 5", async () => {
  const { default: webpack } = await import("webpack");
  const out = join(app, "webpack");
  const stats = await new Promise((res, rej) =>
    webpack(
      {
        mode: "production",
        context: app,
        entry: "./src/main.js",
        output: { path: out, filename: "main.js", clean: true },
        resolve: { modules: [join(app, "node_modules")] },
        performance: { hints: false },
      },
      (err, s) => (err ? rej(err) : res(s)),
    ),
  );
  assert.ok(!stats.hasErrors(), stats.toString("errors-only"));
  writeFileSync(join(out, "index.html"), page("./main.js"));
  assertTreeShaken(out);
  await check("webpack");
});

test("Rollup", async () => {
  const { rollup } = await import("rollup");
  const { nodeResolve } = await import("@rollup/plugin-node-resolve");
  const out = join(app, "rollup");
  const bundle = await rollup({ input: join(app, "src/main.js"), plugins: [nodeResolve({ rootDir: app })] });
  await bundle.write({ dir: out, format: "es" });
  await bundle.close();
  // Rollup keeps `new URL("./web/fauna_session_bg.wasm", import.meta.url)` as it is: the .wasm goes to web/ beside
  // the bundle (as the package README says).
  mkdirSync(join(out, "web"), { recursive: true });
  copyFileSync(join(app, "node_modules/fauna-session/web/fauna_session_bg.wasm"), join(out, "web/fauna_session_bg.wasm"));
  writeFileSync(join(out, "index.html"), page("./main.js"));
  assertTreeShaken(out);
  await check("rollup");
});

/** app/esm/: the app as native ES modules, "fauna-session" mapped to the installed package by an import map. */
function writeEsmApp() {
  const out = join(app, "esm");
  mkdirSync(out, { recursive: true });
  copyFileSync(join(app, "src/main.js"), join(out, "main.js"));
  const map = `<script type="importmap">${JSON.stringify({ imports: { "fauna-session": "/node_modules/fauna-session/index.js" } })}</script>`;
  writeFileSync(join(out, "index.html"), page("./main.js", map));
}

test("native ES modules (an import map, no bundler)", async () => {
  writeEsmApp();
  await check("esm");
  // The same page, its .wasm sent as application/octet-stream.
  await check("esm", octet.origin);
});

test("a missing .wasm fails the import with the URL and status, not a compile error", async () => {
  writeEsmApp();
  const { page: tab, pageErrors } = chromium;
  pageErrors.length = 0;
  await tab.goto(`${noWasm.origin}/esm/`);
  for (let i = 0; i < 100 && pageErrors.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(pageErrors.length, 1, String(pageErrors));
  assert.match(String(pageErrors[0]), /fauna-session: 404 fetching http:\/\/127\.0\.0\.1:\d+\/node_modules\/fauna-session\/web\/fauna_session_bg\.wasm/);
  await tab.context().clearCookies();
});
