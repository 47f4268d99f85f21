// Entry point of the `fauna-session` package.
//
// It loads the WebAssembly module of the `web` build once (top-level await), then
// re-exports the whole JS API, so apps can write
//
//     import { init, getFaunadbToken } from "fauna-session";
//
// without calling a wasm initialiser themselves. Bundlers (Vite, webpack 5, Rollup)
// turn `new URL("…_bg.wasm", import.meta.url)` inside the web build into an asset URL.
// Need control over where the .wasm comes from? Import "fauna-session/web" and call
// its default export yourself.
import initWasm from "./web/fauna_session.js";

await initWasm();

export * from "./web/fauna_session.js";
