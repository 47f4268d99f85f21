// The Rust examples (www-example/yew/ at /yew/, www-example/leptos/ at /leptos/) in
// real Chromium: sign-up, a protected call and the faunadbToken, all through the
// library's Rust API. Both apps use the same element ids.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEMO_URL, launch, screenshot, steps, uniqueEmail } from "./browser.mjs";

for (const app of ["yew", "leptos"]) {
  test(`${app} example: sign-in, protected call and faunadbToken through the Rust API`, async (t) => {
    const { browser, page, pageErrors, consoleLines } = await launch();
    const email = uniqueEmail(`e2e-${app}`);
    const password = "correct horse battery staple 42";
    const step = steps(t, page, `failure-${app}.png`);

    try {
      await step("the app loads signed out", async () => {
        await page.goto(`${DEMO_URL}/${app}/`);
        await page.waitForSelector('#state[data-state="signed-out"]');
      });

      await step("sign up, then sign in", async () => {
        await page.fill("#email", email);
        await page.fill("#password", password);
        await page.click("#signup");
        await page.waitForSelector('#state[data-state="signed-in"], #message:not(:empty)');
        assert.equal(await page.locator("#message").count(), 0, "sign-up refused: " + (await page.locator("#message").allTextContents()));
        const userId = await page.textContent("#user-id");
        assert.ok(userId.length > 0);

        await page.click("#signout");
        await page.waitForSelector('#state[data-state="signed-out"]');
        await page.fill("#email", email);
        await page.fill("#password", password);
        await page.click("#signin");
        await page.waitForSelector('#state[data-state="signed-in"]');
        assert.equal(await page.textContent("#user-id"), userId);
      });

      await step("session.fetch(GET /sessioninfo) succeeds", async () => {
        await page.click("#call-api");
        await page.waitForSelector("#api-result:not(:empty)");
        const text = await page.textContent("#api-result");
        assert.match(text, /^status 200\n/);
        assert.equal(JSON.parse(text.replace(/^status 200\n/, "")).userId, await page.textContent("#user-id"));
      });

      await step("session.faunadb_token() gives a secret Fauna accepts", async () => {
        await page.click("#fauna-query");
        await page.waitForSelector("#fauna-result:not(:empty)");
        const text = await page.textContent("#fauna-result");
        assert.match(text, /^faunadbToken \S+…\nNote\.all\(\) has \d+ notes$/);
        await screenshot(page, `${app}-signed-in.png`);
      });

      await step("sign out", async () => {
        await page.click("#signout");
        await page.waitForSelector('#state[data-state="signed-out"]');
        await page.reload();
        await page.waitForSelector('#state[data-state="signed-out"]');
      });

      await step("no uncaught errors in the page", () => {
        assert.deepEqual(pageErrors.map(String), []);
      });
    } finally {
      if (step.failed()) console.log(`browser console:\n${consoleLines.join("\n")}`);
      await browser.close();
    }
  });
}
