// Shared helpers for the browser tests: the Debian Chromium through playwright-core,
// the demo's URLs, and the server's Prometheus counters.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

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
