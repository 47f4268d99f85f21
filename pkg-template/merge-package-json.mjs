// Merge pkg-template/package.json over the package.json that wasm-pack generated.
//
// wasm-pack rewrites package.json from Cargo.toml on every build and knows nothing
// about `exports`, a package made of two builds, or `snippets/` in `files`
// (wasm-pack#836, #1206). This script keeps what only Cargo.toml knows (version,
// authors) and takes everything else from the template.
//
// usage: node merge-package-json.mjs <generated package.json> <template package.json> <output>
import { readFileSync, writeFileSync } from "node:fs";

const [generatedPath, templatePath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error("usage: node merge-package-json.mjs <generated> <template> <output>");
  process.exit(2);
}
const generated = JSON.parse(readFileSync(generatedPath, "utf8"));
const template = JSON.parse(readFileSync(templatePath, "utf8"));

const merged = {
  name: template.name,
  version: generated.version,
  ...(generated.collaborators ? { collaborators: generated.collaborators } : {}),
  ...template,
};
// Only the fields above survive from the generated file: `main`, `types`, `files` and
// `sideEffects` there describe a single-target package and would be wrong here.
merged.version = generated.version;

writeFileSync(outPath, JSON.stringify(merged, null, 2) + "\n");
console.log(`wrote ${outPath} (${merged.name}@${merged.version})`);
