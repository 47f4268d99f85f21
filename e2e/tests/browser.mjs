// Shared helpers for the browser tests: the Debian Chromium through playwright-core,
// the demo's URLs, and the server's Prometheus counters.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";

export const DEMO_URL = process.env.DEMO_URL ?? "http://127.0.0.1:3001";
export const FAUNA_ENDPOINT = process.env.FAUNA_ENDPOINT ?? "http://127.0.0.1:8443";
export const ACCESS_TOKEN_LIFETIME = Number(process.env.ACCESS_TOKEN_LIFETIME ?? 4);
export const ARTIFACTS_DIR = process.env.ARTIFACTS_DIR ?? join(import.meta.dirname, "../../artifacts");

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // Uncaught exceptions in the page fail the test; console output is kept for the report.
  const pageErrors = [];
  const consoleLines = [];
  page.on("pageerror", (error) => pageErrors.push(error));
  page.on("console", (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
  return { browser, context, page, pageErrors, consoleLines };
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** One counter from the server's GET /metrics (Prometheus text format); 0 if absent. */
export async function metric(name) {
  const response = await fetch(`${DEMO_URL}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  const text = await response.text();
  let total = 0;
  for (const line of text.split("\n")) {
    // `name 3` or `name{label="x"} 3`
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([0-9.eE+-]+)/);
    if (match && match[1] === name) total += Number(match[3]);
  }
  return total;
}

/** POST one FQL v10 query straight to Fauna's HTTP API (no browser, no driver). */
export async function faunaQuery(secret, query) {
  const response = await fetch(`${FAUNA_ENDPOINT}/query/1`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function uniqueEmail(prefix) {
  return `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/**
 * Steps of one test that share a page and run in order, each its own subtest so the report shows which one
 * broke; after a failure the rest are skipped and `failureShot` of the page is saved.
 */
export function steps(t, page, failureShot) {
  let failed = false;
  const step = (name, fn) =>
    t.test(name, { skip: failed && "an earlier step failed" }, async () => {
      try {
        await fn();
      } catch (error) {
        failed = true;
        await screenshot(page, failureShot).catch(() => {});
        throw error;
      }
    });
  step.failed = () => failed;
  return step;
}

/** The demo inbox's URL (the demo writes it into the example's /config.json). */
export async function inboxUrl() {
  const config = await (await fetch(`${DEMO_URL}/config.json`)).json();
  if (!config.inboxUrl) throw new Error("the demo has no inbox (config.json has no inboxUrl)");
  return config.inboxUrl;
}

/**
 * The first message to `to` whose subject is `subject` with an id above `afterId`, from the demo inbox's JSON
 * (polled for at most `timeoutMs`): { id, from, to, subject, text, html, links }.
 */
export async function waitForMail(inbox, to, subject, { afterId = 0, timeoutMs = 15000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const response = await fetch(new URL(`api/messages?to=${encodeURIComponent(to)}`, inbox));
    const found = (await response.json()).find((m) => m.subject === subject && m.id > afterId);
    if (found) return found;
    await sleep(200);
  }
  throw new Error(`no "${subject}" email to ${to} within ${timeoutMs} ms`);
}

/**
 * Sign up or in through the Vite example's form on `page` (at the signed-out page): "" once signed in, else
 * the message the page shows.
 */
export async function submitAuth(page, action, email, password) {
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click(`#${action}`);
  await page.waitForSelector('#status[data-state="signed-in"], #auth-error:not(:empty)');
  return page.textContent("#auth-error");
}

/**
 * The npm package as an app gets it: `npm pack` of `pkgDir` installed into `<work>/app` (a fresh scratch dir named
 * after `name`). Returns { work, app }.
 */
export function installPackedPackage(pkgDir, name) {
  const work = mkdtempSync(join(tmpdir(), `fauna-session-${name}-`));
  const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: pkgDir, encoding: "utf8" }));
  const app = join(work, "app");
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: `${name}-app`, private: true, type: "module" }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", join(work, packed[0].filename)], { cwd: app });
  return { work, app };
}

const MIME = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm" };
/** The content type `serveFiles` sends for `file` by default. */
export const contentType = (file) => MIME[extname(file)] ?? "application/octet-stream";

/**
 * Serves the files below `root` on a free loopback port (`dir/` is `dir/index.html`); `route(path, req, res)` may
 * answer first (true when it did); `type(file)` is the content type to send, `null` to answer 404 as if the file
 * were missing. Resolves to { server, origin }.
 */
export async function serveFiles(root, route = () => false, type = contentType) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    if (route(path, req, res)) return;
    const file = join(root, path.endsWith("/") ? join(path, "index.html") : path);
    const sent = file.startsWith(root) && existsSync(file) ? type(file) : null;
    if (sent === null) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": sent }).end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** A page with the import map `map` that runs `./main.js` as a module; it shows its result in `#out`. */
export const importMapPage = (map) =>
  `<!doctype html><html><head><meta charset="utf-8"><script type="importmap">${JSON.stringify({ imports: map })}</script>` +
  `</head><body><pre id="out"></pre><script type="module" src="./main.js"></script></body></html>`;

/**
 * Opens `url` in the page of `launch()`'s `chromium` (cookies cleared first) and resolves to the JSON its `#out`
 * shows; fails on an uncaught page error or an `#out` that starts with "error:".
 */
export async function pageResult(chromium, url) {
  const { page: tab, pageErrors, consoleLines } = chromium;
  pageErrors.length = 0;
  await tab.context().clearCookies();
  await tab.goto(url);
  await tab.waitForFunction(() => document.getElementById("out")?.textContent !== "", null, { timeout: 20_000 });
  const text = await tab.textContent("#out");
  assert.deepEqual(pageErrors, [], `${url}: page errors; console:\n${consoleLines.join("\n")}`);
  assert.ok(!text.startsWith("error:"), `${url}: ${text}`);
  return JSON.parse(text);
}
