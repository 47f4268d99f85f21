// Tabs of the Vite example in one browser context (same cookies, storage and locks), one session.
// - When the access token has expired and two tabs call the API at the same moment, the server sees exactly one
//   refresh (the library's cross-tab lock plus its "did another tab refresh already?" check).
// - A refresh, a session the server ended, a new session and a sign-out in one tab reach the 2 or 4 tabs within a
//   second: each fires the matching event exactly once, and its page follows (signed in / signed out).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ACCESS_TOKEN_LIFETIME, DEMO_URL, launch, metric, sleep, submitAuth, uniqueEmail } from "./browser.mjs";

const PASSWORD = "correct horse battery staple 42";

test("two tabs hitting an expired session refresh it once", async () => {
  const { browser, context, page, pageErrors } = await launch();
  try {
    await page.goto(`${DEMO_URL}/`);
    await page.waitForSelector('#status[data-state="signed-out"]');
    await page.fill("#email", uniqueEmail("e2e-tabs"));
    await page.fill("#password", PASSWORD);
    await page.click("#signup");
    await page.waitForSelector('#status[data-state="signed-in"]');

    const second = await context.newPage(); // same context: same cookies, storage and locks
    second.on("pageerror", (e) => pageErrors.push(e));
    await second.goto(`${DEMO_URL}/`);
    await second.waitForSelector('#status[data-state="signed-in"]');

    await sleep((ACCESS_TOKEN_LIFETIME + 1.5) * 1000);
    const before = await metric("fauna_session_refresh_requests_total");
    const statuses = await Promise.all(
      [page, second].map((p) => p.evaluate(async () => (await fetch("/sessioninfo")).status)),
    );
    const after = await metric("fauna_session_refresh_requests_total");

    assert.deepEqual(statuses, [200, 200], "both tabs' calls succeed");
    assert.equal(after - before, 1, "one refresh for both tabs");
    assert.deepEqual(pageErrors.map(String), []);
  } finally {
    await browser.close();
  }
});

/** How many times each page's event list shows `action`. */
const counts = (pages, action) =>
  Promise.all(pages.map((p) => p.locator(`#events li[data-action="${action}"]`).count()));

/**
 * Runs `act`; then every page in `pages` shows `action` once more than before it, within a second, and still
 * exactly that 300 ms later (no second copy of the news).
 */
async function eachOnce(pages, action, act) {
  const before = await counts(pages, action);
  await act();
  const want = before.map((n) => n + 1);
  let seen = [];
  for (let i = 0; i < 10; i++) {
    seen = await counts(pages, action);
    if (seen.every((n, i) => n === want[i])) break;
    await sleep(100);
  }
  assert.deepEqual(seen, want, `${action} within a second, in each tab`);
  await sleep(300);
  assert.deepEqual(await counts(pages, action), want, `${action} once in each tab`);
}

const allShow = (pages, state) =>
  Promise.all(pages.map((p) => p.waitForSelector(`#status[data-state="${state}"]`, { timeout: 1000 })));

/** Ends the user's other sessions on the server from elsewhere (a header-mode sign-in without the browser). */
async function revokeFromElsewhere(email) {
  const body = JSON.stringify({ formFields: [{ id: "email", value: email }, { id: "password", value: PASSWORD }] });
  const signIn = await fetch(`${DEMO_URL}/auth/signin`, {
    method: "POST",
    headers: { "content-type": "application/json", "st-auth-mode": "header" },
    body,
  });
  const token = signIn.headers.get("st-access-token");
  assert.ok(token, `sign-in from elsewhere: ${signIn.status}`);
  const auth = { authorization: `Bearer ${token}` };
  const { sessions } = await (await fetch(`${DEMO_URL}/auth/sessions`, { headers: auth })).json();
  const others = sessions.filter((s) => !s.current);
  assert.equal(others.length, 1, "the browser's session");
  const end = await fetch(`${DEMO_URL}/auth/sessions/${encodeURIComponent(others[0].sessionHandle)}`, {
    method: "DELETE",
    headers: auth,
  });
  assert.equal(end.status, 200);
}

for (const n of [2, 4]) {
  test(`${n} tabs follow a refresh, a session ended on the server, a sign-in and a sign-out`, async () => {
    const { browser, context, page, pageErrors } = await launch();
    try {
      const email = uniqueEmail(`e2e-${n}tabs`);
      await page.goto(`${DEMO_URL}/`);
      await page.waitForSelector('#status[data-state="signed-out"]');
      assert.equal(await submitAuth(page, "signup", email, PASSWORD), "");
      const pages = [page];
      for (let i = 1; i < n; i++) {
        const p = await context.newPage();
        p.on("pageerror", (e) => pageErrors.push(e));
        await p.goto(`${DEMO_URL}/`);
        await p.waitForSelector('#status[data-state="signed-in"]');
        pages.push(p);
      }
      const others = pages.slice(1);

      // A refresh in the first tab: the others hear of it and use the new tokens without refreshing.
      await sleep((ACCESS_TOKEN_LIFETIME + 1.5) * 1000);
      const before = await metric("fauna_session_refresh_requests_total");
      await eachOnce(others, "REFRESH_SESSION", async () => {
        assert.equal(await page.evaluate(async () => (await fetch("/sessioninfo")).status), 200);
      });
      const statuses = await Promise.all(others.map((p) => p.evaluate(async () => (await fetch("/sessioninfo")).status)));
      assert.deepEqual(statuses, others.map(() => 200));
      assert.equal((await metric("fauna_session_refresh_requests_total")) - before, 1, "one refresh in all");

      // The server ends the session; the first tab's next call meets it: every tab fires UNAUTHORISED once
      // and shows the sign-in form.
      await revokeFromElsewhere(email);
      await sleep((ACCESS_TOKEN_LIFETIME + 1.5) * 1000);
      await eachOnce(pages, "UNAUTHORISED", async () => {
        assert.equal(await page.evaluate(async () => (await fetch("/sessioninfo")).status), 401);
      });
      await allShow(pages, "signed-out");

      // Signed in again in the last tab, then out in the first: each tab follows, each event once.
      await eachOnce(pages, "SESSION_CREATED", async () => {
        assert.equal(await submitAuth(pages[n - 1], "signin", email, PASSWORD), "");
      });
      await allShow(pages, "signed-in");
      await eachOnce(pages, "SIGN_OUT", () => page.click("#signout"));
      await allShow(pages, "signed-out");
      assert.deepEqual(pageErrors.map(String), []);
    } finally {
      await browser.close();
    }
  });
}
