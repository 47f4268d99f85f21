// The `fauna-session/compat` entry at run time: the packed tarball (npm pack of pkg/) installed into a scratch app,
// its compat entry loaded as a native ES module (an import map) in the Debian Chromium, against a small scripted
// backend on the page's own origin (loopback, free port). Plain XMLHttpRequests to the API must get the session
// headers, and concurrent ones answered 401 must share one refresh and then complete with the retried response;
// the default entry, which has no XHR interception, must leave XMLHttpRequest alone.
//
// Run: node --test tests/compat.browser.test.mjs   (PKG_DIR overrides ../pkg)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { importMapPage, installPackedPackage, launch, pageResult, serveFiles } from "./browser.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const PKG = resolve(process.env.PKG_DIR ?? join(here, "../../pkg"));
assert.ok(existsSync(join(PKG, "package.json")), `no package at ${PKG}: run scripts/build-npm.sh first`);

// The page: a session whose access token the backend no longer accepts (it answers 401 until a refresh), a front
// token that is not expired (so nothing refreshes before the first request), then `count` concurrent XHRs.
const APP = (entry) => `import { init } from "${entry}";
const out = document.getElementById("out");
const front = btoa(JSON.stringify({ uid: "user-1", ate: Date.now() + 3600000, up: { sub: "user-1" } }));
document.cookie = "sFrontToken=" + front + ";path=/";
document.cookie = "st-last-access-token-update=1;path=/";
init({ apiDomain: location.origin });
const xhr = () =>
  new Promise((done) => {
    const x = new XMLHttpRequest();
    x.open("GET", "/api/data");
    x.onloadend = () => done({ status: x.status, body: x.responseText });
    x.send();
  });
try {
  const results = await Promise.all([xhr(), xhr(), xhr()]);
  out.textContent = JSON.stringify(results);
} catch (e) {
  out.textContent = "error: " + ((e && e.stack) || e);
}
`;

let work;
let app;
let server;
let origin;
let chromium;
/** What the backend saw: refresh calls and the API requests' session headers. */
let seen;

/** The scripted backend: the refresh endpoint and one protected API route. */
function backend(path, req, res) {
  if (path === "/auth/session/refresh" && req.method === "POST") {
    seen.refreshes++;
    const front = Buffer.from(JSON.stringify({ uid: "user-1", ate: Date.now() + 3600000, up: { sub: "user-1" } }));
    res.writeHead(200, {
      "content-type": "application/json",
      "set-cookie": "sAccessToken=fresh; Path=/",
      "front-token": front.toString("base64"),
    });
    res.end('{"status":"OK"}');
    return true;
  }
  if (path === "/api/data") {
    seen.api.push({ rid: req.headers["rid"], authMode: req.headers["st-auth-mode"] });
    const fresh = /(?:^|;\s*)sAccessToken=fresh(?:;|$)/.test(req.headers.cookie ?? "");
    res.writeHead(fresh ? 200 : 401, { "content-type": "application/json" });
    res.end(fresh ? '{"data":"secret"}' : '{"message":"try refresh token"}');
    return true;
  }
  return false;
}

before(async () => {
  ({ work, app } = installPackedPackage(PKG, "compat"));
  for (const [dir, entry, file] of [
    ["compat", "fauna-session/compat", "compat.js"],
    ["default", "fauna-session", "index.js"],
  ]) {
    mkdirSync(join(app, dir));
    writeFileSync(join(app, dir, "main.js"), APP(entry));
    writeFileSync(join(app, dir, "index.html"), importMapPage({ [entry]: `/node_modules/fauna-session/${file}` }));
  }
  ({ server, origin } = await serveFiles(app, backend));
  chromium = await launch();
});

after(async () => {
  await chromium?.browser.close();
  server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function load(name) {
  seen = { refreshes: 0, api: [] };
  return pageResult(chromium, `${origin}/${name}/`);
}

test("fauna-session/compat: XHRs get the session headers, and three 401s share one refresh, then succeed", async () => {
  const results = await load("compat");
  assert.deepEqual(results, Array(3).fill({ status: 200, body: '{"data":"secret"}' }));
  assert.equal(seen.refreshes, 1, "one refresh for three concurrent 401s");
  // Three first attempts (401) and three retries (200), each intercepted.
  assert.equal(seen.api.length, 6);
  for (const h of seen.api) assert.deepEqual(h, { rid: "anti-csrf", authMode: "cookie" });
});

test("the default entry leaves XMLHttpRequest alone (no session headers, no refresh)", async () => {
  const results = await load("default");
  assert.deepEqual(results, Array(3).fill({ status: 401, body: '{"message":"try refresh token"}' }));
  assert.equal(seen.refreshes, 0);
  for (const h of seen.api) assert.deepEqual(h, { rid: undefined, authMode: undefined });
});
