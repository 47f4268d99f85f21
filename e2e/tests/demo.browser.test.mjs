// The Vite example (www-example/) in real Chromium against the running demo:
// fauna-session-server + the Fauna emulator, access tokens living a few seconds.
//
// The steps share one page and run in order; each is its own subtest so the report
// shows which one broke.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ACCESS_TOKEN_LIFETIME,
  DEMO_URL,
  faunaQuery,
  launch,
  metric,
  screenshot,
  sleep,
  steps,
  uniqueEmail,
} from "./browser.mjs";

const EMAIL = uniqueEmail("e2e");
const PASSWORD = "correct horse battery staple 42";

test("www-example: the whole session flow in Chromium", async (t) => {
  const { browser, page, pageErrors, consoleLines } = await launch();
  const signIn = async (action) => {
    await page.fill("#email", EMAIL);
    await page.fill("#password", PASSWORD);
    await page.click(`#${action}`);
    // Signed in, or a message saying why not (then fail with it, not with a timeout).
    await page.waitForSelector('#status[data-state="signed-in"], #auth-error:not(:empty)');
    assert.equal(await page.textContent("#auth-error"), "", `${action} failed`);
    await page.waitForSelector('#status[data-state="signed-in"]');
  };
  // Steps run in order on one page; after a failure the rest are skipped.
  const step = steps(t, page, "failure-www-example.png");
  let userId;

  try {
    await step("a first visit shows the signed-out page", async () => {
      await page.goto(`${DEMO_URL}/`);
      await page.waitForSelector('#status[data-state="signed-out"]');
      assert.equal(await page.isVisible("#auth-form"), true);
    });

    await step("sign up creates a session and shows the user id", async () => {
      await signIn("signup");
      userId = await page.textContent("#user-id");
      assert.match(userId, /^\S+$/, "a user id is shown");
      assert.equal(await page.locator('#events li[data-action="SESSION_CREATED"]').count(), 1);
    });

    await step("sign out, then sign in again as the same user", async () => {
      await page.click("#signout");
      await page.waitForSelector('#status[data-state="signed-out"]');
      await signIn("signin");
      assert.equal(await page.textContent("#user-id"), userId);
    });

    await step("a wrong password is refused with a clear message", async () => {
      // A second, cookie-less browser context: nobody is signed in there.
      const context = await browser.newContext();
      const other = await context.newPage();
      await other.goto(`${DEMO_URL}/`);
      await other.waitForSelector('#status[data-state="signed-out"]');
      await other.fill("#email", EMAIL);
      await other.fill("#password", "not the password");
      await other.click("#signin");
      await other.waitForSelector("#auth-error:not(:empty)");
      assert.equal(await other.textContent("#auth-error"), "Wrong email or password.");
      await context.close();
    });

    await step("the protected API call succeeds", async () => {
      await page.click("#call-api");
      await page.waitForSelector("#api-result[data-status]");
      assert.equal(await page.getAttribute("#api-result", "data-status"), "200");
      const shown = JSON.parse(await page.textContent("#api-result"));
      assert.equal(shown.body.userId, userId);
    });

    await step("after the access token expires, the next call refreshes exactly once", async () => {
      await sleep((ACCESS_TOKEN_LIFETIME + 1.5) * 1000);
      assert.match(await page.textContent("#expiry"), /expired/);
      const before = await metric("fauna_session_refresh_requests_total");
      const refreshEventsBefore = await page.locator('#events li[data-action="REFRESH_SESSION"]').count();
      await page.evaluate(() => document.querySelector("#api-result").removeAttribute("data-status"));
      await page.click("#call-api");
      await page.waitForSelector("#api-result[data-status]");
      assert.equal(await page.getAttribute("#api-result", "data-status"), "200");
      const after = await metric("fauna_session_refresh_requests_total");
      assert.equal(after - before, 1, "exactly one refresh request reached the server");
      assert.equal(await page.locator('#events li[data-action="REFRESH_SESSION"]').count(), refreshEventsBefore + 1);
      // The countdown restarted from the new token.
      await page.waitForFunction(() => /\d s$/.test(document.querySelector("#expiry").textContent));
    });

    await step("the access-token payload carries a faunadbToken", async () => {
      const payload = JSON.parse(await page.textContent("#payload"));
      assert.equal(payload.sub, userId);
      assert.match(String(payload.faunadbToken), /^\S+…$/, "shown shortened in the session panel");
    });

    await step("Fauna: the user's token creates and lists notes", async () => {
      const text = `note from e2e ${Date.now()}`;
      await page.fill("#note-text", text);
      await page.click("#note-form button[type=submit]");
      await page.waitForSelector(`#notes li >> text=${text}`);
      assert.equal(await page.getAttribute("#fauna-result", "data-outcome"), "ok");
    });

    await step("Fauna: a query outside the token's role is refused", async () => {
      await page.evaluate(() => document.querySelector("#fauna-result").removeAttribute("data-outcome"));
      await page.click("#forbidden-query");
      await page.waitForSelector("#fauna-result[data-outcome]");
      assert.equal(await page.getAttribute("#fauna-result", "data-outcome"), "refused");
      const error = JSON.parse(await page.textContent("#fauna-result"));
      assert.ok(error.status === 400 || error.status === 403, `refused with ${JSON.stringify(error)}`);
    });

    await step("screenshot of the signed-in page", async () => {
      await screenshot(page, "signed-in.png");
    });

    await step("sign out revokes the session's Fauna token", async () => {
      // The current token works before sign-out (so the check below can tell).
      const { secret } = await page.evaluate(async () => {
        const r = await fetch("/sessioninfo");
        return { secret: (await r.json()).accessTokenPayload.faunadbToken };
      });
      assert.equal((await faunaQuery(secret, "Note.all()")).status, 200);

      const signOutsBefore = await page.locator('#events li[data-action="SIGN_OUT"]').count();
      await page.click("#signout");
      await page.waitForSelector('#status[data-state="signed-out"]');
      const signOutEvents = await page.locator('#events li[data-action="SIGN_OUT"]').count();

      const afterSignOut = await faunaQuery(secret, "Note.all()");
      assert.equal(afterSignOut.status, 401, `the old Fauna token is rejected: ${JSON.stringify(afterSignOut.body)}`);
      assert.equal(signOutEvents, signOutsBefore + 1, "one SIGN_OUT event");

      // The page shows the same through the fauna driver.
      await page.click("#old-token-query");
      await page.waitForSelector("#old-token-result[data-outcome]");
      assert.equal(await page.getAttribute("#old-token-result", "data-outcome"), "refused");
      assert.match(await page.textContent("#old-token-result"), /401/);
    });

    await step("a reload shows the signed-out page; the API says 401", async () => {
      await page.reload();
      await page.waitForSelector('#status[data-state="signed-out"]');
      const status = await page.evaluate(async () => (await fetch("/sessioninfo")).status);
      assert.equal(status, 401);
      await screenshot(page, "signed-out.png");
    });

    await step("no uncaught errors in the page", () => {
      assert.deepEqual(pageErrors.map(String), []);
    });
  } finally {
    if (step.failed()) console.log(`# browser console:\n${consoleLines.join("\n")}`);
    await browser.close();
  }
});
