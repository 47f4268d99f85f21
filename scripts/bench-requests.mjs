// Driven by scripts/bench-requests.sh (which builds the page and starts the server): see its header.
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(import.meta.dirname, "../e2e/package.json"));
const { chromium } = require("playwright-core");

const URL = process.env.BENCH_URL;
const N = Number(process.env.N ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const LIBS = ["native", "supertokens-website", "fauna-session"];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
const context = await browser.newContext();

/**
 * Loads `lib` on a fresh page, after `before` (a function run in the page before its scripts, if given); resolves to
 * [page, ms from import() to init returning, ms from import() to a first protected request answered].
 */
async function open(lib, before) {
  const page = await context.newPage();
  if (before) await page.addInitScript(before);
  await page.goto(`${URL}/index.html`);
  const ms = await page.evaluate(async (lib) => {
    window.nativeFetch = window.fetch; // for `paired`
    const t0 = performance.now();
    if (lib === "fauna-session") {
      const m = await import("/ours.js");
      m.init({ apiDomain: location.origin });
    } else if (lib === "supertokens-website") {
      const m = (await import("/st.js")).default;
      m.init({ apiDomain: location.origin });
    }
    const ready = performance.now() - t0;
    await (await fetch("/sessioninfo")).text();
    return [ready, performance.now() - t0];
  }, lib);
  return [page, ...ms];
}

/** N sequential protected fetches; resolves to µs per request. */
function run(page) {
  return page.evaluate(async (n) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const r = await fetch("/sessioninfo");
      if (r.status !== 200) throw new Error(`GET /sessioninfo answered ${r.status}`);
      await r.text();
    }
    return ((performance.now() - t0) / n) * 1000;
  }, N);
}

/**
 * N requests each through `fetch` (the library's) and the native fetch saved before the library loaded, alternating
 * on the same page (so both see the same machine load); resolves to the library's µs per request over the native.
 */
function paired(page) {
  return page.evaluate(async (n) => {
    const time = async (f) => {
      const t0 = performance.now();
      const r = await f("/sessioninfo");
      if (r.status !== 200) throw new Error(`GET /sessioninfo answered ${r.status}`);
      await r.text();
      return performance.now() - t0;
    };
    let lib = 0;
    let native = 0;
    for (let i = 0; i < n; i++) {
      if (i & 1) {
        lib += await time(fetch);
        native += await time(window.nativeFetch);
      } else {
        native += await time(window.nativeFetch);
        lib += await time(fetch);
      }
    }
    return ((lib - native) / n) * 1000;
  }, N);
}

// One session for all pages (same context: same cookies), signed up through our library in cookie mode.
{
  const [page] = await open("fauna-session");
  const status = await page.evaluate(async () => {
    const email = `bench-${Date.now()}@example.com`;
    const r = await fetch("/auth/signup", {
      method: "POST",
      headers: { "content-type": "application/json", rid: "emailpassword" },
      body: JSON.stringify({ formFields: [{ id: "email", value: email }, { id: "password", value: "bench password 42" }] }),
    });
    return r.status;
  }, []);
  if (status !== 200) throw new Error(`sign-up answered ${status}`);
  await run(page); // warm-up
  await page.close();
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const perRequest = Object.fromEntries(LIBS.map((l) => [l, []]));
const loadInit = Object.fromEntries(LIBS.map((l) => [l, []]));
const firstAnswer = Object.fromEntries(LIBS.map((l) => [l, []]));
const pairedOverhead = Object.fromEntries(LIBS.map((l) => [l, []]));
const f = (x, w = 10) => x.toFixed(0).padStart(w);
console.log(`${N} sequential fetches per library per round, ${ROUNDS} rounds (order rotates each round)`);
console.log(`round ${LIBS.map((l) => ` ${l} µs/req`.padStart(28)).join("")}${LIBS.slice(1).map((l) => ` ${l} load+init ms`.padStart(34)).join("")}`);
for (let r = 0; r < ROUNDS; r++) {
  const order = LIBS.map((_, i) => LIBS[(i + r) % LIBS.length]);
  for (const lib of order) {
    const [page, ms, first] = await open(lib);
    perRequest[lib].push(await run(page));
    loadInit[lib].push(ms);
    firstAnswer[lib].push(first);
    if (lib !== "native") pairedOverhead[lib].push(await paired(page));
    await page.close();
  }
  console.log(
    `${String(r + 1).padStart(5)} ${LIBS.map((l) => f(perRequest[l][r], 28)).join("")}` +
      LIBS.slice(1).map((l) => loadInit[l][r].toFixed(1).padStart(34)).join(""),
  );
}
// Overhead per round (each library against the native fetch of the same round), then the median.
const overhead = (lib) => median(perRequest[lib].map((x, i) => x - perRequest.native[i]));
const st = overhead("supertokens-website");
const ours = overhead("fauna-session");
console.log(`median per-request time: native ${f(median(perRequest.native), 0)} µs`);
console.log(`median overhead over native fetch: supertokens-website ${f(st, 0)} µs, fauna-session ${f(ours, 0)} µs (ratio ${(ours / st).toFixed(2)})`);
const stPaired = median(pairedOverhead["supertokens-website"]);
const oursPaired = median(pairedOverhead["fauna-session"]);
console.log(
  `median overhead paired on one page (${N} requests alternating with the native fetch): supertokens-website ` +
    `${f(stPaired, 0)} µs, fauna-session ${f(oursPaired, 0)} µs (ratio ${(oursPaired / stPaired).toFixed(2)}); ` +
    `per round: ${pairedOverhead["fauna-session"].map((x, i) => (x / pairedOverhead["supertokens-website"][i]).toFixed(2)).join(" ")}`,
);
const slower = loadInit["fauna-session"].filter((x, i) => x > loadInit["supertokens-website"][i]).length;
console.log(
  `median load+init: supertokens-website ${median(loadInit["supertokens-website"]).toFixed(1)} ms, ` +
    `fauna-session ${median(loadInit["fauna-session"]).toFixed(1)} ms (fauna-session slower in ${slower} of ${ROUNDS} rounds)`,
);
// init returns before fauna-session's module is in (requests wait for it): the time to a first answered request
// shows that wait.
const slowerFirst = firstAnswer["fauna-session"].filter((x, i) => x > firstAnswer["supertokens-website"][i]).length;
console.log(
  `median load+init+first request: native ${median(firstAnswer.native).toFixed(1)} ms, supertokens-website ` +
    `${median(firstAnswer["supertokens-website"]).toFixed(1)} ms, fauna-session ${median(firstAnswer["fauna-session"]).toFixed(1)} ms ` +
    `(fauna-session slower in ${slowerFirst} of ${ROUNDS} rounds)`,
);

// The libraries' own work per request, the network taken out: on a fresh page per library per round, `fetch` is
// replaced before the library loads by one that answers `/sessioninfo` at once (a 200 with an empty JSON body; the
// session's cookies stay as they are), so each request costs only what the library does around it. No machine
// load or server time is in this figure; what the network adds to every intercepted request (two request headers,
// a `document.cookie` read after each response) is not in it either.
const work = { "supertokens-website": [], "fauna-session": [] };
const answerAtOnce = () => {
  const real = window.fetch;
  const answer = () => new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
  window.fetch = (input, init) => (String(input).endsWith("/sessioninfo") ? Promise.resolve(answer()) : real(input, init));
};
for (let r = 0; r < ROUNDS; r++) {
  for (const lib of r & 1 ? ["fauna-session", "supertokens-website"] : ["supertokens-website", "fauna-session"]) {
    const [page] = await open(lib, answerAtOnce);
    work[lib].push(
      await page.evaluate(async (n) => {
        const time = async (f) => {
          const t0 = performance.now();
          for (let i = 0; i < n; i++) await (await f("/sessioninfo")).text();
          return performance.now() - t0;
        };
        await time(fetch); // warm-up
        // window.nativeFetch is the answering fetch, saved by `open` before the library loaded.
        return (((await time(fetch)) - (await time(window.nativeFetch))) / n) * 1000;
      }, N),
    );
    await page.close();
  }
}
const stWork = median(work["supertokens-website"]);
const oursWork = median(work["fauna-session"]);
console.log(
  `median library work per request, fetch answered at once (no network): supertokens-website ${f(stWork, 0)} µs, ` +
    `fauna-session ${f(oursWork, 0)} µs (ratio ${(oursWork / stWork).toFixed(2)})`,
);
await browser.close();
