// Entry point of the `fauna-session` package.
//
// In a browser it loads the WebAssembly module of the `web` build once (top-level await), then exports the whole
// JS API, so apps can write
//
//     import { init, getFaunadbToken } from "fauna-session";
//     import SuperTokens from "fauna-session"; // the same API as one object, as supertokens-website's
//
// without calling a wasm initialiser themselves. Bundlers (Vite, webpack 5, Rollup)
// turn the `new URL(…_bg.wasm, import.meta.url)` below into an asset URL.
// Need control over where the .wasm comes from? Import "fauna-session/web" and call
// its default export yourself.
//
// Outside a browser (server-side rendering in Node: Next.js, Vite SSR) nothing is loaded and nothing throws at
// import: there is no session there, so the API answers "no session" (doesSessionExist → false, getAccessToken →
// undefined, attemptRefreshingSession → false, signOut → done) or rejects with a clear error (getUserId, the
// payload, getFaunadbToken, listSessions, revokeSession, the claim functions); init does nothing and sessionFetch
// is the plain fetch.
import * as web from "./web/fauna_session.js";

const browser = typeof window !== "undefined" && typeof document !== "undefined";
if (browser) {
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
}

const answer = (value) => () => Promise.resolve(value);
const noSession = () =>
  Promise.reject(new Error("fauna-session: no browser here (server-side rendering), so no session exists"));
// `web.name`, never `web[name]`: a bundler keeps only the exports named here (no namespace object: about 250 bytes
// gzipped less in every app; scripts/size-report.sh).
const pick = (fn, ssr) => (browser ? fn : ssr);
// Each export below carries a pure annotation (`pick` and `answer` only choose or wrap a function), so a bundler
// drops the exports an app does not import, and with them their web-build wrappers: an app that
// imports `init` and `getAccessTokenPayloadSecurely` ships about 400 bytes gzipped less than one that takes the
// whole API (scripts/size-report.sh prints both). The default export object uses every one of them.

export const init = /* @__PURE__ */ pick(web.init, () => {});
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
export const emailVerificationClaim = /* @__PURE__ */ pick(web.emailVerificationClaim, () => ({
  id: "st-ev",
  validators: { isVerified: () => ({ id: "st-ev" }) },
}));
/** The email-verification claim (`st-ev`), one per page; outside a browser its validators only carry the id. */
export const EmailVerificationClaim = /* @__PURE__ */ emailVerificationClaim();

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
