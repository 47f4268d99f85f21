// The official FQL v10 driver (fauna-js) against fauna-emulator, over real HTTP.
//
//   FAUNA_EMULATOR_BIN=target/debug/fauna-emulator npm test
//
// The emulator is started here on a free loopback port and stopped at the end.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { Client, fql, AuthenticationError, QueryRuntimeError, AbortError, Page, TimeStub, NullDocument }
  from "fauna";

const BIN = process.env.FAUNA_EMULATOR_BIN ?? new URL("../../../target/debug/fauna-emulator", import.meta.url).pathname;
let emulator;
let endpoint;

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

before(async () => {
  const port = await freePort();
  endpoint = new URL(`http://127.0.0.1:${port}`);
  emulator = spawn(BIN, ["--listen", `127.0.0.1:${port}`, "--collection", "User", "--collection", "Note",
    "--token-role", "Note:read,create"], { stdio: "inherit" });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(new URL("/ping", endpoint))).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${BIN} did not start`);
});

after(() => emulator?.kill());

const client = (secret) => new Client({ secret, endpoint, query_timeout_ms: 5000 });

test("documents, tokens, privileges and logout through the driver", async () => {
  const admin = client("secret");
  const user = (await admin.query(fql`User.create({ name: "a" })`)).data;
  assert.equal(user.name, "a");
  assert.ok(user.ts instanceof TimeStub);
  const token = (await admin.query(
    fql`Token.create({ document: User.byId(${user.id}), ttl: Time.now().add(1, "hour") })`,
  )).data;
  assert.equal(token.secret.length, 51);
  assert.ok(token.secret.startsWith("fnE"));
  assert.equal(token.document.id, user.id);

  const browser = client(token.secret);
  const note = (await browser.query(fql`Note.create({ text: ${"hi"} })`)).data;
  assert.equal(note.text, "hi");
  const page = (await browser.query(fql`Note.all()`)).data;
  assert.ok(page instanceof Page);
  assert.deepEqual(page.data.map((n) => n.text), ["hi"]);
  await assert.rejects(browser.query(fql`User.all().toArray()`), (e) =>
    e instanceof QueryRuntimeError && e.code === "permission_denied" && e.httpStatus === 400);
  await assert.rejects(admin.query(fql`abort(${{ why: "x" }})`), (e) =>
    e instanceof AbortError && e.abort.why === "x");
  const missing = (await admin.query(fql`User.byId("123")`)).data;
  assert.ok(missing instanceof NullDocument);
  assert.equal(missing.cause, "not found");
  const values = (await admin.query(fql`${[1, 2.5, "x", null, true, { a: 1 }]}`)).data;
  assert.deepEqual(values, [1, 2.5, "x", null, true, { a: 1 }]);

  await browser.query(fql`Query.token()!.delete()`);
  await assert.rejects(browser.query(fql`1`), (e) => e instanceof AuthenticationError && e.httpStatus === 401);
  browser.close();
  admin.close();
});

test("a browser-style cross-origin preflight is answered", async () => {
  const res = await fetch(new URL("/query/1", endpoint), {
    method: "OPTIONS",
    headers: {
      origin: "http://127.0.0.1:8000",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization,content-type,x-format,x-query-timeout-ms,x-driver-env,x-last-txn-ts",
    },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), "http://127.0.0.1:8000");
  const allowed = res.headers.get("access-control-allow-headers").split(", ");
  for (const h of ["authorization", "content-type", "x-format", "x-query-timeout-ms", "x-driver-env", "x-last-txn-ts"]) {
    assert.ok(allowed.includes(h), h);
  }
});
