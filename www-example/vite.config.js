import { defineConfig } from "vite";

// `fauna-session` is a top-level-await ESM package with a .wasm asset;
// Vite handles both with a modern build target and no plugin.
export default defineConfig({
  build: { target: "es2022" },
  server: {
    // The example is served by fauna-session-server in the demo; `npm run dev`
    // proxies the API to it instead. 127.0.0.1, not localhost: Fauna is reached
    // as localhost, and the session library intercepts the app's own host name.
    host: "127.0.0.1",
    // The emailed links' pages (/auth/reset-password, /auth/verify-email) are this app's, not the API's.
    proxy: {
      "/auth": {
        target: "http://127.0.0.1:3001",
        bypass: (req) => (req.headers.accept?.includes("text/html") ? "/index.html" : undefined),
      },
      "/sessioninfo": "http://127.0.0.1:3001",
    },
  },
});
