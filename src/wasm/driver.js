// The browser library's async plumbing (see src/wasm/driver.rs): it awaits the promises (fetch, the refresh lock,
// the API hooks, timers) and asks Rust, synchronously, what to do between them. Every decision is Rust's, through
// `R(op, ...)`: which requests are intercepted and how (scope), their headers, what a response means, when to
// refresh, the session state and its cookies, events, errors. Nothing here names a cookie or a header: `run`'s
// browser calls (8-25: `document.cookie`, `localStorage`, `Reflect.get`, ...) only read and write what Rust names, as wasm imports
// would, for fewer bytes.
//
// Op numbers: src/wasm/driver.rs's `op` module (a native test checks that both lists agree).
const ROUTE = 0;
const STATE = 1;
const PREPARE = 2;
const ADD_HEADERS = 3;
const AFTER_RESPONSE = 4;
const CLAIM = 5;
const LOCK_WAIT = 6;
const LOCK_TIMED_OUT = 7;
const AFTER_LOCK = 8;
const UNAUTHORISED_EVENT = 9;
const FAILED = 10;
const REFRESH_REQUEST = 11;
const OFFLINE = 12;
const AFTER_REFRESH = 13;
const REFRESHED = 14;
const HOOK = 15;
const FRONT = 16;
const EXPIRED = 17;
const TOKEN = 18;
const ERROR = 19;
const FAUNA_MIN = 20;
const BEARER = 21;
const FAUNA_STATUS = 22;
const FIELD = 23;
const ACCESS = 24;
const SIGN_OUT_REQUEST = 25;
const SIGN_OUT_STATUS = 26;
const SIGN_OUT_BODY = 27;
const SIGNED_OUT_EVENT = 28;
const STORAGE_LOCK = 29;
const SESSIONS_REQUEST = 30;
const SESSIONS_RESULT = 31;
const CLAIM_CHECK = 32;
const CLAIM_REFRESH = 33;
const TAB_MESSAGE = 34;

// How a refresh ended for its caller (and AFTER_LOCK's answers).
const RETRY = 0;
const GONE = 1;
const API_ERROR = 2;
const REFRESH = 3;
const GONE_HELD = 4;

// ERROR codes; the first three mean "no usable session" (a Fauna request then goes out as the app made it).
const NO_SESSION = 0;
const COULD_NOT_REFRESH = 1;
const NO_FAUNA_TOKEN = 2;
const TOKEN_TOO_SHORT = 3;
const COOKIE_WRITE_FAILED = 4;

/** The SuperTokens SDK's name of the refresh lock. */
const LOCK = "REFRESH_TOKEN_USE";
const HOOK_ACTIONS = ["REFRESH_SESSION", "SIGN_OUT"];

let R;
let nativeFetch;
let patched = false;
let pageLock = Promise.resolve();
const soft = new WeakSet();

/**
 * The one function Rust imports (one import keeps the glue small): `run(0, decide)` hands over Rust's decisions,
 * one function `(op, a, b, c, d) => value` that throws Rust's errors; the other numbers start a flow.
 */
export function run(op, a, b, c, d) {
  switch (op) {
    case 0:
      R = a;
      return;
    case 1:
      return saveFetch();
    case 2:
      return patchFetch();
    case 3:
      return request(a, b);
    case 4:
      return state(a);
    case 5:
      return unauthorised(a);
    case 6:
      return fresh();
    case 7:
      return fauna(a, b);
    // Browser calls of the Rust side that cost more as wasm imports (src/wasm/sys.rs names them).
    case 8:
      // The tabs' channel `a`, its messages to Rust (TAB_MESSAGE); without BroadcastChannel, undefined, and the
      // `storage` events of key `b` instead.
      try {
        const channel = new BroadcastChannel(a);
        channel.onmessage = (e) => R(TAB_MESSAGE, e.data);
        return channel;
      } catch {
        addEventListener("storage", (e) => e.key === b && R(TAB_MESSAGE, e.newValue));
        return;
      }
    case 9:
      return new Date(a).toUTCString();
    case 10:
      return console.error(a);
    case 11:
      try {
        return parseFloat(localStorage.getItem(a));
      } catch {
        return NaN;
      }
    case 12:
      try {
        const u = new URL(a);
        return `${u.hostname} ${u.port} ${u.pathname}`;
      } catch {
        return;
      }
    case 13:
      try {
        localStorage.setItem(a, b);
      } catch {}
      return;
    case 14:
      try {
        return document.cookie;
      } catch {
        return "";
      }
    case 15:
      try {
        document.cookie = a;
      } catch {}
      return;
    case 16:
      return a.toString(b);
    case 17:
      try {
        return location.hostname || new URL(origin).hostname;
      } catch {
        return "";
      }
    case 18:
      try {
        return Reflect.get(a, b);
      } catch {
        return;
      }
    case 19:
      try {
        Reflect.set(a, b, c);
      } catch {}
      return;
    case 20:
      try {
        return JSON.stringify(a);
      } catch {
        return;
      }
    case 21:
      try {
        return JSON.parse(a);
      } catch {
        return;
      }
    case 22:
      try {
        return a(b);
      } catch {
        return;
      }
    case 23:
      try {
        a[b](c, d);
      } catch (e) {
        return e;
      }
      return;
    case 24:
      try {
        return a.get(b);
      } catch {
        return null;
      }
    case 25:
      return new Headers();
    case 26: {
      // Base64 (standard or URL-safe, padding optional) of UTF-8 text: the text; undefined if `a` is not base64
      // (whitespace included, which atob would skip), null if the bytes are not UTF-8. tests/js/driver.test.mjs.
      let s;
      try {
        if (/[^\w+/=-]/.test(a)) return;
        s = atob(a.replace(/-/g, "+").replace(/_/g, "/"));
      } catch {
        return;
      }
      try {
        return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(s, (c) => c.charCodeAt(0)));
      } catch {
        return null;
      }
    }
    // The claims' plumbing (src/wasm/claims.rs).
    case 27:
      return claim(a);
    case 28:
      return claimValue(a);
    case 29:
      return validate(a);
    case 30:
      return validateClaims(a, b);
    case 31:
      return invalidClaims(a);
    default:
      return api(op - 32, a);
  }
}

/** Saves `window.fetch` as it is now, once: the refresh call and every forwarded request use it. */
function saveFetch() {
  if (!nativeFetch) {
    const f = window.fetch;
    nativeFetch = (input, init) => f.call(window, input, init);
  }
}

const fail = (code) => {
  const e = R(ERROR, code);
  if (code <= NO_FAUNA_TOKEN) soft.add(e);
  return e;
};

async function send(input, init) {
  const r = await nativeFetch(input, init);
  if (!(r instanceof Response)) throw new Error("fetch did not resolve with a Response");
  return r;
}

const isObject = (v) => typeof v == "object" && v !== null;
const copy = (init) => (isObject(init) ? Object.assign({}, init) : {});

/** A copy of the headers `fetch(request, init)` would send: `init.headers` if given, else the `Request`'s. */
function baseHeaders(request, init) {
  const h = isObject(init) ? init.headers : undefined;
  return new Headers(h != null ? h : request ? request.headers : undefined);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `fetch` with the session handling. */
async function request(input, init) {
  const req = input instanceof Request ? input : undefined;
  const raw = req ? req.url : typeof input == "string" ? input : input instanceof URL ? input.href : undefined;
  let abs;
  if (raw !== undefined) {
    try {
      abs = new URL(raw, location.href).href;
    } catch {}
  }
  const route = R(ROUTE, raw, abs);
  if (route == 1) return fauna(input, init);
  if (route == 0) return send(input, init);
  if (!isObject(init)) init = {};
  const base = baseHeaders(req, init);
  const caller = R(PREPARE, base);
  for (let refreshes = 0; ; ) {
    const pre = await state(true);
    const headers = new Headers(base);
    const attempt = copy(init);
    attempt.headers = headers;
    if (R(ADD_HEADERS, headers, caller, pre) && init.credentials === undefined) attempt.credentials = "include";
    const resp = await send(req ? req.clone() : input, attempt);
    const next = R(AFTER_RESPONSE, resp, pre, refreshes, abs);
    if (next == 1) {
      refreshes++;
      const [k, e] = await unauthorised(pre);
      if (k == RETRY) continue;
      if (e === undefined) return resp;
      if (e instanceof Response) return e;
      throw e;
    }
    if (next == 2) {
      try {
        R(CLAIM, await resp.clone().json());
      } catch {}
    }
    return resp;
  }
}

/** Replaces `window.fetch` with `request` (once per page); it rejects with `Error` instances only. */
function patchFetch() {
  if (patched) return;
  patched = true;
  window.fetch = (input, init) =>
    request(input, init).catch((e) => {
      throw e instanceof Error ? e : new Error(typeof e == "string" ? e : json(e));
    });
}

function json(v) {
  try {
    return JSON.stringify(v) ?? "";
  } catch {
    return "";
  }
}

/** The local session state (Rust's encoding); an unknown one is resolved by one refresh when `tryRefresh`. */
async function state(tryRefresh) {
  const s = R(STATE);
  if (s !== undefined || !tryRefresh) return s;
  const [k] = await unauthorised(undefined);
  if (k != RETRY) return null;
  const now = R(STATE);
  if (typeof now == "string") return now;
  throw fail(COOKIE_WRITE_FAILED);
}

/**
 * Resolves to a release function, false when the wait timed out, or true when, while waiting, the lock stopped
 * being needed (another tab refreshed: Rust decides from `pre`, the state the caller saw).
 */
async function lock(pre) {
  const locks = navigator.locks;
  if (locks) {
    try {
      let release, granted, refused;
      const held = new Promise((r) => (release = r));
      const got = new Promise((a, b) => ((granted = a), (refused = b)));
      const signal = AbortSignal.timeout ? AbortSignal.timeout(R(LOCK_WAIT)) : undefined;
      locks
        .request(LOCK, signal ? { signal } : {}, () => {
          granted();
          return held;
        })
        .catch(refused);
      try {
        await got;
        return release;
      } catch {
        return false;
      }
    } catch {}
  }
  const storage = R(STORAGE_LOCK, pre);
  if (storage !== undefined) return storage;
  const previous = pageLock;
  let release;
  pageLock = new Promise((r) => (release = r));
  await previous;
  return release;
}

/**
 * The single-flight refresh for callers that saw the session state `pre`: resolves to `[RETRY]`, `[GONE, error?]`
 * or `[API_ERROR, error]`.
 */
async function unauthorised(pre) {
  const release = await lock(pre);
  if (release === false) return [R(LOCK_TIMED_OUT)];
  let k;
  try {
    k = R(AFTER_LOCK, pre);
    if (k == REFRESH) {
      // Never a refresh without the lock (the state cannot have changed back since the lock was found unneeded;
      // if it did, the request retries within its budget).
      if (release === true) return [RETRY];
      try {
        return [await refresh(pre)];
      } catch (e) {
        return [R(FAILED), e];
      }
    }
  } finally {
    if (release !== true) release();
  }
  if (k == GONE_HELD) {
    R(UNAUTHORISED_EVENT);
    k = GONE;
  }
  return [k];
}

async function refresh(pre) {
  let [url, init] = R(REFRESH_REQUEST, pre);
  [url, init] = await preHook(0, url, init);
  for (let waited = 0; R(OFFLINE, waited); waited += 200) await sleep(200);
  const resp = await send(url, init);
  if (!R(AFTER_REFRESH, resp, pre)) throw resp;
  await postHook(0, url, init, resp);
  return R(REFRESHED);
}

const context = (action, url, requestInit) => ({ action: HOOK_ACTIONS[action], requestInit, url, userContext: {} });

async function preHook(action, url, init) {
  const hook = R(HOOK, 0);
  if (!hook) return [url, init];
  const out = await hook(context(action, url, init));
  return [out?.url, out?.requestInit];
}

async function postHook(action, url, init, resp) {
  const hook = R(HOOK, 1);
  if (!hook) return;
  const ctx = context(action, url, init);
  ctx.fetchResponse = resp.clone();
  await hook(ctx);
}

async function refreshed(pre) {
  const [k, e] = await unauthorised(pre);
  if (k == GONE) throw fail(COULD_NOT_REFRESH);
  if (k == API_ERROR) throw e;
}

/** The parsed front token of a session whose access token has not expired (refreshing first if it has). */
async function fresh() {
  for (let i = 0; i < 10; i++) {
    await state(true);
    const info = R(FRONT);
    if (!info) throw fail(NO_SESSION);
    if (!R(EXPIRED, info)) return info;
    await refreshed(R(STATE));
  }
  throw fail(COULD_NOT_REFRESH);
}

/** The session's `faunadbToken`, valid for at least `minMs`. */
async function token(minMs) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const t = R(TOKEN, await fresh(), minMs);
    if (t === undefined) throw fail(NO_FAUNA_TOKEN);
    if (t !== null) return t;
    if (attempt == 0) await refreshed(R(STATE));
  }
  throw fail(TOKEN_TOO_SHORT);
}

/** A request to the Fauna endpoint, with the session's token (none without a session). */
async function fauna(input, init) {
  const minMs = R(FAUNA_MIN);
  const req = input instanceof Request ? input : undefined;
  const base = baseHeaders(req, init);
  for (let retried = false; ; retried = true) {
    let t;
    try {
      t = await token(minMs);
    } catch (e) {
      if (!soft.has(e)) throw e;
    }
    const pre = R(STATE);
    const headers = new Headers(base);
    if (t !== undefined) R(BEARER, headers, t);
    const attempt = copy(init);
    attempt.headers = headers;
    const resp = await send(req ? req.clone() : input, attempt);
    if (t !== undefined && R(FAUNA_STATUS, resp.status, retried) && (await unauthorised(pre))[0] == RETRY) continue;
    return resp;
  }
}

async function exists() {
  await state(true);
  const info = R(FRONT);
  if (!info) return false;
  if (R(EXPIRED, info)) return (await unauthorised(R(STATE)))[0] == RETRY;
  return true;
}

async function signOut(scope) {
  if (!(await exists())) {
    R(SIGNED_OUT_EVENT, scope);
    return;
  }
  let [url, init] = R(SIGN_OUT_REQUEST, scope);
  [url, init] = await preHook(1, url, init);
  const resp = await request(url, init);
  const step = R(SIGN_OUT_STATUS, resp.status);
  if (step == 0) return;
  if (step == 1) throw resp;
  await postHook(1, url, init, resp);
  let body;
  try {
    body = await resp.clone().json();
  } catch {
    return;
  }
  R(SIGN_OUT_BODY, body);
}

/** The user's devices: `GET <apiBasePath>/sessions`, or with `handle` `DELETE <apiBasePath>/sessions/<handle>`. */
async function sessions(handle) {
  const [url, init] = R(SESSIONS_REQUEST, handle);
  const resp = await request(url, init);
  let body;
  if (handle === undefined) {
    try {
      body = await resp.clone().json();
    } catch {}
  }
  return R(SESSIONS_RESULT, resp, handle, body);
}

/** The session API (src/js.rs and the Rust `Session` call it by number). */
async function api(op, arg) {
  switch (op) {
    case 0:
      return exists();
    case 1: {
      await state(true);
      const info = R(FRONT);
      if (!info) throw fail(NO_SESSION);
      return R(FIELD, info, 0);
    }
    case 2:
      return R(FIELD, await fresh(), 1);
    case 3:
      return (await exists()) ? R(ACCESS) : undefined;
    case 4: {
      const [k, e] = await unauthorised(R(STATE));
      if (k == API_ERROR) throw e;
      return k == RETRY;
    }
    case 5:
      return token(arg);
    case 6:
      return signOut(arg);
    case 7:
      return sessions(arg);
  }
}

// The claims (src/wasm/claims.rs): the claim object around Rust's CLAIM_CHECK (what the payload says, whether it
// passes, whether to refetch) and CLAIM_REFRESH, and the SDK's order of calling validators, the app's own too.
const claimCheck = (what, p, r, m) => R(CLAIM_CHECK, what, p, r, m);
const claimRefresh = () => R(CLAIM_REFRESH);
const freshPayload = () => api(2);
function claim(id) {
  return { id, refresh: claimRefresh, getValueFromPayload: (p) => claimCheck(2, p), getLastFetchedTime: (p) => claimCheck(3, p), validators: {
    isVerified: (r, m) => (claimCheck(4, 0, r, m), { id, refresh: claimRefresh, shouldRefresh: (p) => claimCheck(0, p, r, m), validate: (p) => {
      const wrong = claimCheck(1, p, r, m);
      return wrong === undefined ? { isValid: true } : { isValid: false, reason: { message: wrong, expectedValue: true, actualValue: claimCheck(2, p) } };
    } }),
  } };
}
async function claimValue(input) {
  return input.claim.getValueFromPayload(await freshPayload(), {});
}
async function validate(validators) {
  if (!validators.length) return [];
  let p = await freshPayload();
  for (const v of validators) {
    if (await v.shouldRefresh(p, {})) {
      try { await v.refresh({}); } catch (e) { console.error("refreshing claim " + v.id + " failed", e); }
      p = await freshPayload();
    }
  }
  const errors = [];
  for (const v of validators) {
    const r = await v.validate(p, {});
    if (!r.isValid) errors.push({ id: v.id, reason: r.reason });
  }
  return errors;
}
function validateClaims(options, claim) {
  let validators;
  try {
    validators = [claim.validators.isVerified()];
    const f = typeof options == "function" ? options : options?.overrideGlobalClaimValidators;
    if (f) validators = f(validators, {});
  } catch (e) {
    return Promise.reject(e);
  }
  return validate(validators);
}
async function invalidClaims(input) {
  const r = input.response, d = r.data;
  const body = r instanceof Response ? await r.clone().json().catch(() => 0) : typeof d == "string" ? JSON.parse(d) : d;
  const e = body?.claimValidationErrors;
  return Array.isArray(e) ? e : [];
}
