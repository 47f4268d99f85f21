// Entry point of the `fauna-session` package.
//
// In a browser it starts loading the WebAssembly module of the `web` build and exports the whole JS API at once,
// so apps can write
//
//     import { init, getFaunadbToken } from "fauna-session";
//     import SuperTokens from "fauna-session"; // the same API as one object, as supertokens-website's
//
// without calling a wasm initialiser themselves. Bundlers (Vite, webpack 5, Rollup)
// turn the `new URL(…_bg.wasm, import.meta.url)` below into an asset URL.
// Need control over where the .wasm comes from? Import "fauna-session/web" and call
// its default export yourself.
//
// No top-level await: importing the package holds up nothing, so the app's own modules run (and render) while the
// module is fetched and compiled (and bundlers build it for targets without top-level await, Vite's default among
// them). Until the module is in, calls wait for it: an API call resolves once it is; `init` patches `window.fetch`
// with a function that holds each request until the module is in and `init` has been applied, then sends it
// through the session handling. Once the module is in, `init` applies its config at once (a bad one throws there,
// as supertokens-website's `init` does); before, it returns a promise that settles when the config has been
// applied, rejecting with the config's error. Tested by e2e/tests/loading.browser.test.mjs.
//
// Outside a browser (server-side rendering in Node: Next.js, Vite SSR) nothing is loaded and nothing throws at
// import: there is no session there, so the API answers "no session" (doesSessionExist → false, getAccessToken →
// undefined, attemptRefreshingSession → false, signOut → done) or rejects with a clear error (getUserId, the
// payload, getFaunadbToken, listSessions, revokeSession, the claim functions); init does nothing and sessionFetch
// is the plain fetch.
import * as web from "./web/fauna_session.js";

const browser = typeof window !== "undefined" && typeof document !== "undefined";
// `ready`: the module, fetched, compiled and instantiated; `now`: it is, and no early `init` is still to run.
let now = false;
let early = 0;
// window.fetch as the first early `init` found it, and once an `init` has patched it (src/wasm/driver.js).
let before;
let patched;
const ready =
  browser &&
  (async () => {
    // The module is fetched, compiled and instantiated here rather than by the web build's default export: that
    // loader also takes a path, bytes, a Response or the deprecated argument forms, with messages for each, all
    // dead code in a package that loads one file. Without it every app ships about 300 bytes gzipped less
    // (scripts/size-report.sh). Bundlers turn this `new URL(…, import.meta.url)` into the asset's URL.
    const response = await fetch(new URL("./web/fauna_session_bg.wasm", import.meta.url));
    if (!response.ok) throw new Error(`fauna-session: ${response.status} fetching ${response.url}`);
    let module;
    try {
      module = await WebAssembly.compileStreaming(response.clone());
    } catch {
      // Served without `Content-Type: application/wasm`: compile the bytes instead.
      module = await WebAssembly.compile(await response.arrayBuffer());
    }
    web.initSync({ module });
    now = !early;
  })();
// The compat entry (scripts/wasm-post.sh's compat_entry) turns the next line into a top-level await: an
// XMLHttpRequest has no promise to wait on, so that entry holds the app's modules up until the module is in.
/* compat: await ready; */
// A request made through window.fetch while the module loads.
const waiting = (input, options) => ready.then(() => (patched || before)(input, options));
// Runs `init` with window.fetch as the first early `init` found it, so the driver saves that fetch as the one it
// forwards to, and keeps whatever wrapped `waiting` meanwhile (another library patching fetch after `init`) as
// window.fetch: it holds `waiting`, which forwards to the session handling.
function apply(config) {
  const current = window.fetch;
  window.fetch = before;
  try {
    web.init(config);
  } finally {
    if (window.fetch !== before) patched = window.fetch;
    window.fetch = current === waiting || current === before ? patched || before : current;
    now = !--early;
  }
}
function initOrQueue(config) {
  if (now) return web.init(config);
  early++;
  if (!before) {
    before = window.fetch;
    window.fetch = waiting;
  }
  return ready.then(() => apply(config));
}
// Calls made while the module loads wait for it (and for the `init`s made before them).
const later = (fn) => (...args) => (now ? fn(...args) : ready.then(() => fn(...args)));
const answer = (value) => () => Promise.resolve(value);
const noSession = () =>
  Promise.reject(new Error("fauna-session: no browser here (server-side rendering), so no session exists"));
// `web.name`, never `web[name]`: a bundler keeps only the exports named here (no namespace object: about 250 bytes
// gzipped less in every app; scripts/size-report.sh).
const pick = (fn, ssr) => (browser ? later(fn) : ssr);
// Each export below carries a pure annotation (`pick` and `answer` only choose or wrap a function), so a bundler
// drops the exports an app does not import, and with them their web-build wrappers: an app that
// imports `init` and `getAccessTokenPayloadSecurely` ships about 400 bytes gzipped less than one that takes the
// whole API (scripts/size-report.sh prints both). The default export object uses every one of them.

export const init = browser ? initOrQueue : () => {};
export const doesSessionExist = /* @__PURE__ */ pick(web.doesSessionExist, /* @__PURE__ */ answer(false));
export const getUserId = /* @__PURE__ */ pick(web.getUserId, noSession);
export const getAccessTokenPayloadSecurely = /* @__PURE__ */ pick(web.getAccessTokenPayloadSecurely, noSession);
export const getJWTPayloadSecurely = /* @__PURE__ */ pick(web.getJWTPayloadSecurely, noSession);
export const getAccessToken = /* @__PURE__ */ pick(web.getAccessToken, /* @__PURE__ */ answer(undefined));
export const attemptRefreshingSession = /* @__PURE__ */ pick(web.attemptRefreshingSession, /* @__PURE__ */ answer(false));
export const signOut = /* @__PURE__ */ pick(web.signOut, /* @__PURE__ */ answer(undefined));
export const getFaunadbToken = /* @__PURE__ */ pick(web.getFaunadbToken, noSession);
export const sessionFetch = /* @__PURE__ */ pick(web.sessionFetch, (input, init) => fetch(input, init));
export const listSessions = /* @__PURE__ */ pick(web.listSessions, noSession);
export const revokeSession = /* @__PURE__ */ pick(web.revokeSession, noSession);
export const getClaimValue = /* @__PURE__ */ pick(web.getClaimValue, noSession);
export const validateClaims = /* @__PURE__ */ pick(web.validateClaims, noSession);
export const getInvalidClaimsFromResponse = /* @__PURE__ */ pick(web.getInvalidClaimsFromResponse, noSession);
// The claim object is made by the module, so the exported one hands each call to it, made on first use (after
// the module is in: until then its calls throw, as every claim call needs a payload the module fetches).
let claim;
const made = () => {
  if (!now) throw new Error("fauna-session: EmailVerificationClaim is usable once `init` has been applied");
  return (claim ||= web.emailVerificationClaim());
};
const ssrClaim = () => ({ id: "st-ev", validators: { isVerified: () => ({ id: "st-ev" }) } });
export const emailVerificationClaim = browser ? made : ssrClaim;
/** The email-verification claim (`st-ev`), one per page; outside a browser its validators only carry the id. */
export const EmailVerificationClaim = /* @__PURE__ */ (() =>
  browser
    ? {
        get id() {
          return made().id;
        },
        refresh: (...args) => made().refresh(...args),
        getValueFromPayload: (...args) => made().getValueFromPayload(...args),
        getLastFetchedTime: (...args) => made().getLastFetchedTime(...args),
        validators: { isVerified: (...args) => made().validators.isVerified(...args) },
      }
    : ssrClaim())();

/** The whole API as one object: `import SuperTokens from "fauna-session"`, as with supertokens-website. */
export default {
  init,
  doesSessionExist,
  getUserId,
  getAccessTokenPayloadSecurely,
  getJWTPayloadSecurely,
  getAccessToken,
  attemptRefreshingSession,
  signOut,
  getFaunadbToken,
  sessionFetch,
  listSessions,
  revokeSession,
  getClaimValue,
  validateClaims,
  getInvalidClaimsFromResponse,
  EmailVerificationClaim,
};
