// Types of the `fauna-session/compat` entry: the same API as the default entry.
export * from "./index.js";
export { default } from "./index.js";
