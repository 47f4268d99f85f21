// Server-side rendering: importing the package in Node (as a Next.js or Vite SSR build does) must not throw, and
// its API there answers "no session" or rejects with a clear error. Tested on the packed tarball installed into a
// scratch directory, imported by a fresh `node` process.
//
// Run: node --test tests/ssr.test.mjs   (PKG_DIR overrides ../pkg)
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const PKG = resolve(process.env.PKG_DIR ?? join(here, "../../pkg"));
assert.ok(existsSync(join(PKG, "package.json")), `no package at ${PKG}: run scripts/build-npm.sh first`);

const SCRIPT = `
import SuperTokens, * as api from "fauna-session";
const out = {};
out.defaultHasApi = ["init", "doesSessionExist", "getUserId", "signOut", "getFaunadbToken", "sessionFetch",
  "listSessions", "revokeSession", "getClaimValue", "validateClaims", "getInvalidClaimsFromResponse"]
  .every((k) => typeof SuperTokens[k] === "function" && SuperTokens[k] === api[k]);
api.init({ apiDomain: "https://api.example.com" });
out.exists = await api.doesSessionExist();
out.accessToken = (await api.getAccessToken()) ?? null;
out.refreshed = await api.attemptRefreshingSession();
const rejecting = ["getUserId", "getAccessTokenPayloadSecurely", "getFaunadbToken", "listSessions", "revokeSession",
  "getClaimValue", "validateClaims", "getInvalidClaimsFromResponse"];
for (const name of rejecting) {
  try { await api[name](); out[name] = "resolved"; } catch (e) { out[name] = e instanceof Error ? e.message : String(e); }
}
out.claimId = api.EmailVerificationClaim.id === "st-ev" && SuperTokens.EmailVerificationClaim === api.EmailVerificationClaim;
out.validatorId = api.EmailVerificationClaim.validators.isVerified(10).id;
console.log(JSON.stringify(out));
`;

test("importing the packed package in Node does not throw; the API answers no session", () => {
  const work = mkdtempSync(join(tmpdir(), "fauna-session-ssr-"));
  try {
    const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: PKG, encoding: "utf8" }));
    const app = join(work, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "ssr-app", private: true, type: "module" }));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", join(work, packed[0].filename)], { cwd: app });
    writeFileSync(join(app, "ssr.mjs"), SCRIPT);
    const out = JSON.parse(execFileSync("node", ["ssr.mjs"], { cwd: app, encoding: "utf8", timeout: 30_000 }));
    assert.equal(out.defaultHasApi, true, "the default export carries the whole API");
    assert.equal(out.exists, false);
    assert.equal(out.accessToken, null);
    assert.equal(out.refreshed, false);
    for (const name of ["getUserId", "getAccessTokenPayloadSecurely", "getFaunadbToken", "listSessions",
      "revokeSession", "getClaimValue", "validateClaims", "getInvalidClaimsFromResponse"]) {
      assert.match(out[name], /browser|session/i, `${name} rejects with a clear error: ${out[name]}`);
    }
    assert.equal(out.claimId, true, "EmailVerificationClaim exists outside a browser, in the default export too");
    assert.equal(out.validatorId, "st-ev");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
