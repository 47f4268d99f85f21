// The demo app. Everything session-related goes through the `fauna-session` package:
//
//   init(config)                 patch fetch, once, before any API call
//   doesSessionExist()           is someone signed in?
//   getUserId()                  who?
//   getJWTPayloadSecurely()      the access-token payload (refreshes first if it expired)
//   init({ fauna: {...} })       Fauna requests carry the session's faunadbToken (fauna.js: one driver client)
//   getFaunadbToken()            the Fauna secret itself (kept at sign-out to show Fauna refuses it then)
//   signOut()                    end the session (and its Fauna token)
//
// Sign-in and the protected call are plain `fetch` calls.
import * as session from "fauna-session";
import { signUpOrIn } from "./auth.js";
import { createNote, forbiddenQuery, listNotes, listNotesWith, startFauna } from "./fauna.js";

const $ = (id) => document.getElementById(id);
const show = (el, value) => (el.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2));

// ---- start-up ---------------------------------------------------------------

const config = await fetch("/config.json")
  .then((r) => (r.ok ? r.json() : {}))
  .catch(() => ({}));
const faunaEndpoint = config.faunaEndpoint ?? "http://localhost:8443";

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

// ---- rendering --------------------------------------------------------------

async function render() {
  const signedIn = await session.doesSessionExist();
  $("signed-in").hidden = !signedIn;
  $("signed-out").hidden = signedIn;
  $("old-token-box").hidden = signedIn || previousFaunaToken === null;
  $("status").dataset.state = signedIn ? "signed-in" : "signed-out";
  $("status").textContent = signedIn ? "Signed in" : "Signed out";
  if (signedIn) {
    $("user-id").textContent = await session.getUserId();
    await showPayload();
  } else {
    accessTokenExp = null;
  }
}

async function showPayload() {
  const payload = await session.getJWTPayloadSecurely();
  accessTokenExp = payload.exp ?? null;
  show($("payload"), withShortSecret(payload));
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
  // The server ended the session (revoked, expired, token theft): show the sign-in form.
  if (event.action === "UNAUTHORISED" && event.sessionExpiredOrRevoked) setTimeout(render);
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
