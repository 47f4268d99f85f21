// The `fauna-session/compat` entry: the same API as "fauna-session", built with the cargo feature `compat`:
// it also intercepts XMLHttpRequest (axios' XHR adapter) and, where `navigator.locks` is missing (insecure
// origins, old browsers), takes the refresh lock through localStorage as the SuperTokens SDK does.
//
//     import { init, getFaunadbToken } from "fauna-session/compat";
//
// Import one entry or the other in an app, not both: each loads its own WebAssembly module.
import initWasm from "./compat/web/fauna_session.js";

await initWasm();

export * from "./compat/web/fauna_session.js";
