// Two tabs of the Vite example, one session: when the access token has expired and
// both tabs call the API at the same moment, the server sees exactly one refresh
// (the library's cross-tab lock plus its "did another tab refresh already?" check).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ACCESS_TOKEN_LIFETIME, DEMO_URL, launch, metric, sleep, uniqueEmail } from "./browser.mjs";

test("two tabs hitting an expired session refresh it once", async () => {
  const { browser, context, page, pageErrors } = await launch();
  try {
    await page.goto(`${DEMO_URL}/`);
    await page.waitForSelector('#status[data-state="signed-out"]');
    await page.fill("#email", uniqueEmail("e2e-tabs"));
    await page.fill("#password", "correct horse battery staple 42");
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
