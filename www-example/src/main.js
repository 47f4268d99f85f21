// The demo app. Everything session-related goes through the `fauna-session` package:
//
//   init(config)                 patch fetch, once, before any API call
//   doesSessionExist()           is someone signed in?
//   getUserId()                  who?
//   getJWTPayloadSecurely()      the access-token payload (refreshes first if it expired)
//   init({ fauna: {...} })       Fauna requests carry the session's faunadbToken (fauna.js: one driver client)
//   getFaunadbToken()            the Fauna secret itself (kept at sign-out to show Fauna refuses it then)
//   signOut()                    end the session (and its Fauna token)
//   attemptRefreshingSession()   after a password reset: learn that the server ended this session
//   getClaimValue({ claim: EmailVerificationClaim }), validateClaims()   the "verify your email" banner
//   listSessions(), revokeSession(handle), signOut({ scope: "others" })   the "your devices" panel (devices.js)
//
// Sign-in, the account forms (auth.js) and the protected call are plain `fetch` calls. The emailed links
// open this same page at /auth/reset-password?token=… and /auth/verify-email?token=… (the server's
// --website-base-path is /auth), served by the server's fallback to index.html.
import * as session from "fauna-session";
import {
  requestPasswordReset,
  resetPassword,
  sendVerificationEmail,
  signUpOrIn,
  tokenFromLink,
  verifyEmail,
} from "./auth.js";
import { endSession, showDevices } from "./devices.js";
import { createNote, forbiddenQuery, listNotes, listNotesWith, startFauna } from "./fauna.js";

const $ = (id) => document.getElementById(id);
const show = (el, value) => (el.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2));

// ---- start-up ---------------------------------------------------------------

const config = await fetch("/config.json")
  .then((r) => (r.ok ? r.json() : {}))
  .catch(() => ({}));
const faunaEndpoint = config.faunaEndpoint ?? "http://localhost:8443";
// The demo's inbox page (scripts/demo.sh runs a real SMTP server on loopback with one).
for (const link of document.querySelectorAll(".inbox-link")) {
  link.hidden = !config.inboxUrl;
  if (config.inboxUrl) link.href = config.inboxUrl;
}
// Which page this is: the app, or the page of an emailed link.
const linkPage = { "reset-password": "reset-page", "verify-email": "verify-page" }[
  window.location.pathname.replace(/\/+$/, "").split("/").pop()
];

session.init({
  apiDomain: window.location.origin,
  apiBasePath: "/auth",
  onHandleEvent: (event) => onSessionEvent(event),
  // Requests to Fauna (scheme, host and port exact) get the session's faunadbToken, valid for 2 s at least.
  fauna: { endpoint: faunaEndpoint, minValiditySeconds: 2 },
});
startFauna(faunaEndpoint);

let accessTokenExp = null; // seconds since epoch, from the payload
let previousFaunaToken = null; // kept after sign-out to show it was revoked

await render();
setInterval(tickCountdown, 250);
if (linkPage === "verify-page") await verifyFromLink();

// ---- rendering --------------------------------------------------------------

async function render() {
  const signedIn = await session.doesSessionExist();
  $("status").dataset.state = signedIn ? "signed-in" : "signed-out";
  $("status").textContent = signedIn ? "Signed in" : "Signed out";
  if (linkPage) {
    $(linkPage).hidden = false;
    return;
  }
  $("signed-in").hidden = !signedIn;
  $("signed-out").hidden = signedIn;
  $("old-token-box").hidden = signedIn || previousFaunaToken === null;
  if (signedIn) {
    $("user-id").textContent = await session.getUserId();
    await showPayload();
    await refreshDevices();
  } else {
    accessTokenExp = null;
  }
}

async function showPayload() {
  const payload = await session.getJWTPayloadSecurely();
  accessTokenExp = payload.exp ?? null;
  show($("payload"), withShortSecret(payload));
  await showVerification();
}

/** The banner shows while the session's email-verification claim (st-ev, when the server has it on) is false. */
async function showVerification() {
  const verified = await session.getClaimValue({ claim: session.EmailVerificationClaim });
  $("verify-banner").hidden = verified !== false;
}

/** The Fauna secret is a credential: show only its start. */
function withShortSecret(payload) {
  if (typeof payload?.faunadbToken !== "string") return payload;
  return { ...payload, faunadbToken: payload.faunadbToken.slice(0, 8) + "…" };
}

function tickCountdown() {
  if (accessTokenExp === null) return show($("expiry"), "–");
  const left = accessTokenExp - Date.now() / 1000;
  show($("expiry"), left > 0 ? `${left.toFixed(1)} s` : "expired (the next call refreshes it)");
}

function onSessionEvent(event) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()} ${event.action}`;
  item.dataset.action = event.action;
  $("events").prepend(item);
  if (event.action === "REFRESH_SESSION" || event.action === "ACCESS_TOKEN_PAYLOAD_UPDATED") {
    showPayload().catch(() => {});
  }
  // Signed in or out here or in another tab, or the server ended the session (revoked, expired, token theft):
  // every tab shows it (the library tells the other tabs of the origin).
  if (["SESSION_CREATED", "SIGN_OUT", "UNAUTHORISED"].includes(event.action)) setTimeout(render);
}

// ---- sign up / sign in / sign out -------------------------------------------

$("auth-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const action = e.submitter?.dataset.action ?? "signin";
  show($("auth-error"), "");
  const result = await signUpOrIn(action, $("email").value, $("password").value);
  if (!result.ok) return show($("auth-error"), result.message);
  await render();
});

$("signout").addEventListener("click", async () => {
  previousFaunaToken = await session.getFaunadbToken().catch(() => null);
  await session.signOut();
  show($("old-token-result"), "");
  await render();
});

// ---- protected API call -----------------------------------------------------

$("call-api").addEventListener("click", async () => {
  show($("api-result"), "…");
  const response = await fetch("/sessioninfo");
  const body = await response.json().catch(() => null);
  if (body?.accessTokenPayload) body.accessTokenPayload = withShortSecret(body.accessTokenPayload);
  show($("api-result"), { status: response.status, body });
  $("api-result").dataset.status = String(response.status);
});

// ---- Fauna ------------------------------------------------------------------

function showFauna(result) {
  show($("fauna-result"), result.ok ? "OK" : result.error);
  $("fauna-result").dataset.outcome = result.ok ? "ok" : "refused";
}

async function refreshNotes() {
  const result = await listNotes();
  showFauna(result);
  if (!result.ok) return;
  const notes = result.data?.data ?? [];
  $("notes").replaceChildren(
    ...notes.map((note) => {
      const li = document.createElement("li");
      li.textContent = note.text;
      return li;
    }),
  );
}

$("list-notes").addEventListener("click", refreshNotes);

$("note-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("note-text").value;
  const result = await createNote(text);
  showFauna(result);
  if (result.ok) {
    $("note-text").value = "";
    await refreshNotes();
  }
});

$("forbidden-query").addEventListener("click", async () => {
  showFauna(await forbiddenQuery());
});

$("old-token-query").addEventListener("click", async () => {
  const result = await listNotesWith(previousFaunaToken, faunaEndpoint);
  show($("old-token-result"), result.ok ? "Unexpected: the old token still works" : result.error);
  $("old-token-result").dataset.outcome = result.ok ? "ok" : "refused";
});

// ---- forgot password, reset page --------------------------------------------

function showOutcome(el, ok, message) {
  show(el, message);
  el.dataset.outcome = ok ? "ok" : "refused";
}

$("forgot").addEventListener("toggle", () => {
  if ($("forgot").open && !$("forgot-email").value) $("forgot-email").value = $("email").value;
});

$("forgot-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const email = $("forgot-email").value;
  const result = await requestPasswordReset(email);
  // The server answers OK whether or not the email has an account, so say it that way.
  showOutcome(
    $("forgot-result"),
    result.ok,
    result.ok ? `If ${email} has an account, a reset link is on its way.` : result.message,
  );
});

$("reset-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const result = await resetPassword(tokenFromLink(), $("new-password").value);
  if (!result.ok) return showOutcome($("reset-result"), false, result.message);
  $("reset-form").hidden = true;
  showOutcome($("reset-result"), true, "Password changed. Every session of your account has ended: sign in with the new one.");
  // This browser's session (if any) was ended too: a refresh attempt fails and clears it here.
  if (await session.doesSessionExist()) await session.attemptRefreshingSession().catch(() => false);
  await render();
});

// ---- verify your email ------------------------------------------------------

// After sending the link, watch the claim: validateClaims() re-reads it from the server
// (GET /auth/user/email/verify) once its value is older than 10 s, so a link opened on another
// device (no session there) clears the banner here too.
let watchingVerification = null;
function watchVerification() {
  watchingVerification ??= setInterval(async () => {
    if ($("verify-banner").hidden || !(await session.doesSessionExist())) {
      clearInterval(watchingVerification);
      watchingVerification = null;
      return;
    }
    await session.validateClaims().catch(() => []);
    await showVerification().catch(() => {});
  }, 3000);
}

$("send-verification").addEventListener("click", async () => {
  const result = await sendVerificationEmail();
  if (result.ok) {
    watchVerification();
    return showOutcome($("verification-result"), true, "Sent: open the link in the email, here or on another device.");
  }
  showOutcome($("verification-result"), result.status === "EMAIL_ALREADY_VERIFIED_ERROR", result.message);
  await showPayload(); // already verified: the server put st-ev true into this session's token
});

async function verifyFromLink() {
  const token = tokenFromLink();
  const result = token ? await verifyEmail(token) : { ok: false, message: "This link has no token." };
  showOutcome($("verify-result"), result.ok, result.ok ? "Your email is verified." : result.message);
}

// ---- your devices -----------------------------------------------------------

async function refreshDevices() {
  try {
    await showDevices($("devices").tBodies[0], onEndSession);
  } catch (error) {
    showOutcome($("devices-result"), false, `Could not list the sessions: ${error.message ?? error}`);
  }
}

async function onEndSession(handle) {
  const ended = await endSession(handle).catch(() => false);
  showOutcome(
    $("devices-result"),
    ended,
    ended ? "Session ended: that browser is signed out at its next request." : "That session had already ended.",
  );
  await refreshDevices();
}

$("refresh-devices").addEventListener("click", refreshDevices);

$("signout-others").addEventListener("click", async () => {
  await session.signOut({ scope: "others" });
  showOutcome($("devices-result"), true, "Every other session of your account ended.");
  await refreshDevices();
});
