// The Vite example's account panels in real Chromium against the running demo: fauna-session-server with
// email on (a real SMTP server on loopback, the demo inbox), verification optional, access tokens living a few
// seconds. The emails are read from the inbox's JSON and their links followed in the inbox page itself (the
// verification link on a "phone": a context that never signed in, so the signed-in page learns it when its
// st-ev claim refreshes); the "your devices" panel ends the session of another browser (a second context, no
// shared cookies).
//
// Screenshots: artifacts/accounts-*.png.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEMO_URL,
  inboxUrl,
  launch,
  screenshot,
  sleep,
  steps,
  submitAuth,
  uniqueEmail,
  waitForMail,
} from "./browser.mjs";

const EMAIL = uniqueEmail("accounts");
const PASSWORD = "first password 1";
const NEW_PASSWORD = "second password 2";
// The other browser says it is Firefox, so the devices panel can tell the two apart.
const OTHER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";

/** Open message `mail` in the inbox page and click the link of its text part: the page lands on the app. */
async function followEmailedLink(page, inbox, mail, shot) {
  await page.goto(inbox);
  await page.click(`a[href="/messages/${mail.id}"]`);
  await page.waitForSelector("pre a");
  if (shot) await screenshot(page, shot);
  await page.click("pre a");
  await page.waitForURL((url) => url.href === mail.links[0]);
}

/** Submit the reset page's form: [outcome ("ok" | "refused"), the message shown]. */
async function submitNewPassword(page, password) {
  await page.fill("#new-password", password);
  await page.$eval("#reset-result", (el) => el.removeAttribute("data-outcome"));
  await page.click("#reset-submit");
  await page.waitForSelector("#reset-result[data-outcome]");
  return [await page.getAttribute("#reset-result", "data-outcome"), await page.textContent("#reset-result")];
}

/**
 * `page`'s session was ended by the server: once its access token expired (accepted until then, as in
 * SuperTokens), its next request fails to refresh, answers 401, and the page shows the sign-in form.
 */
async function nextRequestFindsItselfSignedOut(page) {
  // `exp` is in whole seconds and the token is still accepted during that second.
  const exp = JSON.parse(await page.textContent("#payload")).exp;
  await sleep(Math.max(0, (exp + 1) * 1000 - Date.now()) + 300);
  await page.$eval("#api-result", (el) => el.removeAttribute("data-status"));
  await page.click("#call-api");
  await page.waitForSelector("#api-result[data-status]", { state: "attached" });
  assert.equal(await page.getAttribute("#api-result", "data-status"), "401");
  await page.waitForSelector('#status[data-state="signed-out"]');
}

/** The rows of `page`'s devices panel once it lists `count` sessions: [{ current, device, title, ip }]. */
async function devices(page, count) {
  await page.click("#refresh-devices");
  await page.waitForFunction((n) => document.querySelectorAll("#devices tbody tr").length === n, count);
  return page.$$eval("#devices tbody tr", (rows) =>
    rows.map((tr) => ({
      current: tr.dataset.current === "true",
      device: tr.cells[0].textContent,
      title: tr.cells[0].title,
      ip: tr.cells[1].textContent,
      end: tr.querySelector(".end-session") !== null,
    })),
  );
}

test("www-example: verify email and forgot password by real email, your devices, in Chromium", async (t) => {
  const { browser, page, pageErrors, consoleLines } = await launch();
  const step = steps(t, page, "failure-accounts.png");
  const inbox = await inboxUrl();
  // A second browser (no shared cookies): the user's other device.
  const otherContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, userAgent: OTHER_AGENT });
  const other = await otherContext.newPage();
  other.on("pageerror", (error) => pageErrors.push(error));
  // A third, never signed in: where the user opens the verification email (a phone, say).
  const phone = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  phone.on("pageerror", (error) => pageErrors.push(error));

  try {
    await step("sign up: the page asks to verify the email", async () => {
      await page.goto(`${DEMO_URL}/`);
      await page.waitForSelector('#status[data-state="signed-out"]');
      assert.equal(await submitAuth(page, "signup", EMAIL, PASSWORD), "");
      await page.waitForSelector("#verify-banner", { state: "visible" });
      assert.equal(JSON.parse(await page.textContent("#payload"))["st-ev"]?.v, false);
      assert.equal(await page.getAttribute("#verify-banner .inbox-link", "href"), inbox);
      await screenshot(page, "accounts-verify-banner.png");
    });

    let verification;
    await step("'send me a verification email' sends a real email with a link to the example", async () => {
      await page.click("#send-verification");
      await page.waitForSelector('#verification-result[data-outcome="ok"]');
      verification = await waitForMail(inbox, EMAIL, "Email verification instructions");
      assert.equal(verification.links.length, 1, verification.text);
      assert.ok(verification.links[0].startsWith(`${DEMO_URL}/auth/verify-email?token=`), verification.links[0]);
    });

    await step("the link, clicked in the demo inbox on a device with no session, verifies the email", async () => {
      await followEmailedLink(phone, inbox, verification, "accounts-inbox-message.png");
      await phone.waitForSelector("#verify-result[data-outcome]");
      assert.equal(await phone.textContent("#verify-result"), "Your email is verified.");
      assert.equal(await phone.getAttribute("#verify-result", "data-outcome"), "ok");
      assert.equal(await phone.getAttribute("#status", "data-state"), "signed-out");
      await screenshot(phone, "accounts-email-verified.png");
    });

    await step("the signed-in page's banner goes away once its claim refreshes", async () => {
      // validateClaims() every few seconds after 'send': the st-ev value is re-read once older than 10 s.
      await page.waitForSelector("#verify-banner", { state: "hidden", timeout: 30000 });
      assert.equal(await page.textContent("#verification-result"), "Sent: open the link in the email, here or on another device.");
      await page.waitForFunction(() => document.querySelector("#payload").textContent.includes('"v": true'));
      assert.equal(JSON.parse(await page.textContent("#payload"))["st-ev"].v, true);
      await screenshot(page, "accounts-verified-banner-gone.png");
    });

    await step("a reload keeps it verified; the link works once", async () => {
      await page.reload();
      await page.waitForSelector('#status[data-state="signed-in"]');
      await page.waitForFunction(() => document.querySelector("#payload").textContent.includes("st-ev"));
      assert.equal(await page.isVisible("#verify-banner"), false);
      await phone.goto(verification.links[0]);
      await phone.waitForSelector("#verify-result[data-outcome]");
      assert.equal(await phone.getAttribute("#verify-result", "data-outcome"), "refused");
      assert.match(await phone.textContent("#verify-result"), /invalid, used or expired/);
    });

    await step("the other device signs in too", async () => {
      await other.goto(`${DEMO_URL}/`);
      await other.waitForSelector('#status[data-state="signed-out"]');
      assert.equal(await submitAuth(other, "signin", EMAIL, PASSWORD), "");
    });

    let reset;
    await step("'forgot password?' emails a reset link", async () => {
      await page.goto(`${DEMO_URL}/`);
      await page.waitForSelector('#status[data-state="signed-in"]');
      await page.click("#signout");
      await page.waitForSelector('#status[data-state="signed-out"]');
      await page.click("#forgot summary");
      await page.fill("#forgot-email", EMAIL);
      await page.click("#forgot-submit");
      await page.waitForSelector('#forgot-result[data-outcome="ok"]');
      await screenshot(page, "accounts-forgot-password.png");
      reset = await waitForMail(inbox, EMAIL, "Password reset instructions");
      assert.ok(reset.links[0].startsWith(`${DEMO_URL}/auth/reset-password?token=`), reset.links[0]);
    });

    await step("the reset page refuses a weak password and keeps the link usable", async () => {
      await followEmailedLink(page, inbox, reset);
      await page.waitForSelector("#reset-page", { state: "visible" });
      assert.deepEqual(await submitNewPassword(page, "short"), [
        "refused",
        "password: Password must contain at least 8 characters, including a number",
      ]);
      await screenshot(page, "accounts-reset-weak-password.png");
    });

    await step("a strong password resets it", async () => {
      const [outcome, message] = await submitNewPassword(page, NEW_PASSWORD);
      assert.equal(outcome, "ok", message);
      await screenshot(page, "accounts-password-reset.png");
    });

    await step("the reset link works once", async () => {
      await page.goto(reset.links[0]);
      assert.deepEqual(await submitNewPassword(page, "third password 3"), [
        "refused",
        "This reset link is invalid, used or expired: ask for a new one.",
      ]);
    });

    await step("the old password fails, the new one works", async () => {
      await page.goto(`${DEMO_URL}/`);
      await page.waitForSelector('#status[data-state="signed-out"]');
      assert.equal(await submitAuth(page, "signin", EMAIL, PASSWORD), "Wrong email or password.");
      assert.equal(await submitAuth(page, "signin", EMAIL, NEW_PASSWORD), "");
    });

    await step("the reset ended the other device's session", async () => {
      await nextRequestFindsItselfSignedOut(other);
    });

    await step("'your devices' lists both browsers' sessions", async () => {
      assert.equal(await submitAuth(other, "signin", EMAIL, NEW_PASSWORD), "");
      const rows = await devices(page, 2);
      const [mine, theirs] = [rows.find((r) => r.current), rows.find((r) => !r.current)];
      assert.ok(mine && theirs, JSON.stringify(rows));
      assert.match(mine.device, /this device$/);
      assert.equal(mine.end, false, "no end button for this device (sign out is)");
      assert.equal(theirs.device, "Firefox 140 on Linux");
      assert.equal(theirs.title, OTHER_AGENT);
      assert.equal(theirs.ip, "127.0.0.1");
      assert.equal(theirs.end, true);
      // The other browser sees the same two, itself marked.
      const seen = await devices(other, 2);
      assert.equal(seen.find((r) => r.current).title, OTHER_AGENT);
      await screenshot(page, "accounts-devices.png");
    });

    await step("ending the other browser's session from the panel signs it out", async () => {
      await page.click("#devices tr[data-current=false] .end-session");
      await page.waitForSelector('#devices-result[data-outcome="ok"]');
      assert.deepEqual((await devices(page, 1)).map((r) => r.current), [true]);
      await screenshot(page, "accounts-devices-ended.png");
      await nextRequestFindsItselfSignedOut(other);
      // This browser's session goes on.
      await page.click("#call-api");
      await page.waitForSelector('#api-result[data-status="200"]');
    });

    await step("'sign out everywhere else' ends the other sessions, not this one", async () => {
      assert.equal(await submitAuth(other, "signin", EMAIL, NEW_PASSWORD), "");
      await devices(page, 2);
      await page.$eval("#devices-result", (el) => el.removeAttribute("data-outcome"));
      await page.click("#signout-others");
      await page.waitForSelector('#devices-result[data-outcome="ok"]');
      await devices(page, 1);
      await nextRequestFindsItselfSignedOut(other);
      assert.equal(await page.getAttribute("#status", "data-state"), "signed-in");
    });

    await step("no uncaught errors in the pages", () => {
      assert.deepEqual(pageErrors.map(String), []);
    });
  } finally {
    if (step.failed()) console.log(`# browser console:\n${consoleLines.join("\n")}`);
    await browser.close();
  }
});
