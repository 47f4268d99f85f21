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

export const init = pick(web.init, () => {});
export const doesSessionExist = pick(web.doesSessionExist, answer(false));
export const getUserId = pick(web.getUserId, noSession);
export const getAccessTokenPayloadSecurely = pick(web.getAccessTokenPayloadSecurely, noSession);
export const getJWTPayloadSecurely = pick(web.getJWTPayloadSecurely, noSession);
export const getAccessToken = pick(web.getAccessToken, answer(undefined));
export const attemptRefreshingSession = pick(web.attemptRefreshingSession, answer(false));
export const signOut = pick(web.signOut, answer(undefined));
export const getFaunadbToken = pick(web.getFaunadbToken, noSession);
export const sessionFetch = pick(web.sessionFetch, (input, init) => fetch(input, init));
export const listSessions = pick(web.listSessions, noSession);
export const revokeSession = pick(web.revokeSession, noSession);
export const getClaimValue = pick(web.getClaimValue, noSession);
export const validateClaims = pick(web.validateClaims, noSession);
export const getInvalidClaimsFromResponse = pick(web.getInvalidClaimsFromResponse, noSession);
export const emailVerificationClaim = pick(web.emailVerificationClaim, () => ({
  id: "st-ev",
  validators: { isVerified: () => ({ id: "st-ev" }) },
}));
/** The email-verification claim (`st-ev`), one per page; outside a browser its validators only carry the id. */
export const EmailVerificationClaim = emailVerificationClaim();

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
