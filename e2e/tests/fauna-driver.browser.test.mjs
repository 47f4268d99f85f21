// Fauna requests managed by the session, with the official `fauna` npm driver (v2, FQL v10) in Chromium against
// the running demo (fauna-session-server + the Fauna emulator, access tokens living a few seconds).
//
// The page (written into the demo's static site, so it is same-origin with the API) loads the built package and
// the driver's browser build as native ES modules, calls init({ fauna: { endpoint, minValiditySeconds } }) and
// creates ONE long-lived Client with a placeholder secret; it never handles a token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ACCESS_TOKEN_LIFETIME, DEMO_URL, launch, metric, sleep, uniqueEmail } from "./browser.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, "../..");
const PKG = resolve(process.env.PKG_DIR ?? join(ROOT, "pkg"));
const SITE = join(process.env.DEMO_STATE_DIR ?? join(ROOT, "target/demo"), "site");
const DRIVER = join(ROOT, "www-example/node_modules/fauna/dist/browser/index.js");

const PAGE = `<!doctype html><html><head><meta charset="utf-8"></head><body><pre id="out"></pre>
<script type="module">
import * as session from "./pkg/index.js";
import { Client, fql, AuthenticationError } from "./fauna.js";
const { faunaEndpoint } = await (await fetch("/config.json")).json();
session.init({ apiDomain: location.origin, fauna: { endpoint: faunaEndpoint, minValiditySeconds: 1 } });
// One client for the page's lifetime; the secret is a placeholder the session replaces.
const client = new Client({ secret: "placeholder", endpoint: new URL(faunaEndpoint) });
window.t = { session, client, fql, AuthenticationError };
document.getElementById("out").textContent = "ready";
</script></body></html>`;

let chromium;
let faunaRequests;
const REFRESHES = "fauna_session_refresh_requests_total";

before(async () => {
  assert.ok(existsSync(join(PKG, "index.js")), `no package at ${PKG}: run scripts/build-npm.sh first`);
  assert.ok(existsSync(DRIVER), `no fauna driver at ${DRIVER}: npm ci in www-example/`);
  const dir = join(SITE, "fauna-driver");
  mkdirSync(dir, { recursive: true });
  cpSync(PKG, join(dir, "pkg"), { recursive: true });
  writeFileSync(join(dir, "fauna.js"), readFileSync(DRIVER));
  writeFileSync(join(dir, "index.html"), PAGE);
  chromium = await launch();
  faunaRequests = [];
  chromium.page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/query/1") faunaRequests.push(request.headers());
  });
  await chromium.page.goto(`${DEMO_URL}/fauna-driver/`);
  await chromium.page.waitForFunction(() => document.getElementById("out").textContent === "ready");
});

after(async () => {
  await chromium?.browser.close();
});

const run = (fn, arg) => chromium.page.evaluate(fn, arg);
/** One `1 + 1` query through the long-lived client: its data, or the driver's error class and code. */
const query = (n = 1) =>
  run(async (n) => {
    const { client, fql } = window.t;
    const one = () =>
      client.query(fql`1 + 1`).then(
        (r) => r.data,
        (e) => ({ error: e.constructor.name, code: e.code ?? null, auth: e instanceof window.t.AuthenticationError }),
      );
    return Promise.all(Array.from({ length: n }, one));
  }, n);

test("the fauna driver with a managed token, across expiry, concurrency, revocation and sign-out", async (t) => {
  await t.test("sign up, then a query carries the session's faunadbToken and no session headers", async () => {
    const email = uniqueEmail("fauna-driver");
    const status = await run(async (email) => {
      const body = JSON.stringify({
        formFields: [
          { id: "email", value: email },
          { id: "password", value: "correct horse battery staple 42" },
        ],
      });
      const r = await fetch("/auth/signup", { method: "POST", headers: { "content-type": "application/json" }, body });
      return (await r.json()).status;
    }, email);
    assert.equal(status, "OK");
    faunaRequests.length = 0;
    const before = await metric(REFRESHES);
    assert.deepEqual(await query(), [2]);
    assert.equal((await metric(REFRESHES)) - before, 0, "a fresh token needs no refresh");
    const token = await run(() => window.t.session.getFaunadbToken());
    assert.equal(faunaRequests.length, 1);
    const headers = faunaRequests[0];
    assert.equal(headers.authorization, `Bearer ${token}`, "the session's token replaced the placeholder");
    for (const name of ["rid", "st-auth-mode", "anti-csrf", "fdi-version"]) {
      assert.equal(headers[name], undefined, `no ${name} header on a Fauna request`);
    }
  });

  await t.test("after the access token expires, the same client's query refreshes once first", async () => {
    await sleep((ACCESS_TOKEN_LIFETIME + 1) * 1000);
    const before = await metric(REFRESHES);
    assert.deepEqual(await query(), [2]);
    assert.equal((await metric(REFRESHES)) - before, 1);
  });

  await t.test("20 concurrent queries with an expired token: one refresh", async () => {
    await sleep((ACCESS_TOKEN_LIFETIME + 1) * 1000);
    const before = await metric(REFRESHES);
    assert.deepEqual(await query(20), Array(20).fill(2));
    assert.equal((await metric(REFRESHES)) - before, 1);
  });

  await t.test("a Fauna 401 (the token deleted in Fauna) refreshes once and retries", async () => {
    const deleted = await run(async () => {
      const { client, fql } = window.t;
      // The driver decodes the deleted document as a NullDocument (cause "deleted").
      return (await client.query(fql`Query.token()!.delete()`)).data?.cause ?? null;
    });
    assert.equal(deleted, "deleted");
    const before = await metric(REFRESHES);
    assert.deepEqual(await query(), [2]);
    assert.equal((await metric(REFRESHES)) - before, 1);
  });

  await t.test("after sign-out: the driver's AuthenticationError, and no refresh loop", async () => {
    await run(() => window.t.session.signOut());
    faunaRequests.length = 0;
    const before = await metric(REFRESHES);
    const [result] = await query();
    assert.equal(result.auth, true, `an AuthenticationError: ${JSON.stringify(result)}`);
    assert.equal(result.code, "unauthorized");
    assert.equal((await metric(REFRESHES)) - before, 0);
    assert.equal(faunaRequests.length, 1, "sent once, not retried");
    assert.equal(faunaRequests[0].authorization, "Bearer placeholder", "no session: the app's own request");
  });
});
