// The default entry before its WebAssembly module is in: the packed tarball installed into a scratch app, loaded
// as a native ES module (an import map) in the Debian Chromium, with the module's response held back 400 ms, so
// the page's `init`, its first `fetch` and its first API call all come while the entry is still loading it. The
// request must wait and then go out with the session headers, the API call must answer, a fetch wrapper another
// library puts over ours meanwhile must stay in place (and still reach the session handling), and an invalid
// config must reject init's promise with the config's error and leave `fetch` plain.
//
// Run: node --test tests/loading.browser.test.mjs   (PKG_DIR overrides ../pkg)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { importMapPage, installPackedPackage, launch, pageResult, serveFiles, sleep } from "./browser.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const PKG = resolve(process.env.PKG_DIR ?? join(here, "../../pkg"));
assert.ok(existsSync(join(PKG, "package.json")), `no package at ${PKG}: run scripts/build-npm.sh first`);

// A signed-in session (a front token that has not expired), then init, a wrapper over fetch, one request and
// getUserId, all before the module is in.
const GOOD = `import { init, getUserId } from "fauna-session";
const out = document.getElementById("out");
const front = btoa(JSON.stringify({ uid: "user-1", ate: Date.now() + 3600000, up: { sub: "user-1" } }));
document.cookie = "sFrontToken=" + front + ";path=/";
const early = init({ apiDomain: location.origin });
const ours = window.fetch;
let wrapped = 0;
window.fetch = (input, options) => (wrapped++, ours(input, options)); // another library, after init
try {
  const [r, user] = await Promise.all([fetch("/api/data"), getUserId()]);
  await early;
  out.textContent = JSON.stringify({ early: early instanceof Promise, status: r.status, user, wrapped,
    kept: window.fetch !== ours, late: (await fetch("/api/data")).status, wrappedAfter: wrapped });
} catch (e) {
  out.textContent = "error: " + ((e && e.stack) || e);
}
`;
const BAD = `import { init } from "fauna-session";
const out = document.getElementById("out");
const plain = window.fetch;
const early = init({ apiDomain: location.origin, tokenTransferMethod: "smoke-signals" });
let message = "";
try {
  await early;
} catch (e) {
  message = String(e && e.message);
}
out.textContent = JSON.stringify({ early: early instanceof Promise, message, plain: window.fetch === plain,
  status: (await fetch("/api/data")).status });
`;

/** The scratch app (work, app), its server (server, origin), the browser, and the API requests' session headers. */
const at = { seen: [] };

function backend(path, req, res) {
  if (path !== "/api/data") return false;
  at.seen.push({ rid: req.headers["rid"], authMode: req.headers["st-auth-mode"] });
  res.writeHead(200, { "content-type": "application/json" });
  res.end('{"data":"secret"}');
  return true;
}

before(async () => {
  Object.assign(at, installPackedPackage(PKG, "loading"));
  for (const [dir, main] of [["good", GOOD], ["bad", BAD]]) {
    mkdirSync(join(at.app, dir));
    writeFileSync(join(at.app, dir, "main.js"), main);
    writeFileSync(join(at.app, dir, "index.html"), importMapPage({ "fauna-session": "/node_modules/fauna-session/index.js" }));
  }
  Object.assign(at, await serveFiles(at.app, backend));
  at.chromium = await launch();
  await at.chromium.page.route("**/*.wasm", async (route) => {
    await sleep(400);
    await route.continue();
  });
});

after(async () => {
  await at.chromium?.browser.close();
  at.server?.close();
  if (at.work) rmSync(at.work, { recursive: true, force: true });
});

function load(name) {
  at.seen = [];
  return pageResult(at.chromium, `${at.origin}/${name}/`);
}

test("calls made while the module loads wait for it, then go through the session handling", async () => {
  const result = await load("good");
  assert.deepEqual(result, { early: true, status: 200, user: "user-1", wrapped: 1, kept: true, late: 200, wrappedAfter: 2 });
  assert.deepEqual(at.seen, Array(2).fill({ rid: "anti-csrf", authMode: "cookie" }));
});

test("an invalid config given while the module loads rejects init's promise and leaves fetch plain", async () => {
  const result = await load("bad");
  assert.equal(result.early, true);
  assert.match(result.message, /tokenTransferMethod/);
  assert.equal(result.plain, true);
  assert.equal(result.status, 200);
  assert.deepEqual(at.seen, [{ rid: undefined, authMode: undefined }]);
});
