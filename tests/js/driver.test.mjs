// driver.js's browser calls that hold logic of their own, run in Node (which has the browser's `atob` and
// `TextDecoder`): `run(26, text)`, the front token's base64 + UTF-8 decoding (src/wasm/sys.rs `base64_utf8_text`).
// The vectors are those of the Rust decoder it stands in for (protocol/src/front_token.rs's tests), so both
// decoders are held to the same answers. Run: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";
import { run } from "../../src/wasm/driver.js";

const BASE64_UTF8 = 26;
const decode = (text) => run(BASE64_UTF8, text);

test("decodes standard and URL-safe base64, padded or not", () => {
  assert.equal(decode("eyJ1aWQiOiJ1MSJ9"), '{"uid":"u1"}');
  assert.equal(decode("QQ=="), "A");
  assert.equal(decode("QQ"), "A");
  assert.equal(decode(""), "");
  // "??>" and "???": the standard alphabet's + and /, the URL-safe one's - and _.
  assert.equal(decode("Pz8+"), "??>");
  assert.equal(decode("Pz8-"), "??>");
  assert.equal(decode("Pz8/"), "???");
  assert.equal(decode("Pz8_"), "???");
});

test("text that is not base64 is undefined, whitespace included (atob alone would skip it)", () => {
  for (const bad of ["a", "QQ===", "Q Q=", " QQ==", "QQ==\n", "Q\tQ", "QQ!=", "é"]) {
    assert.equal(decode(bad), undefined, JSON.stringify(bad));
  }
});

test("bytes that are not UTF-8 are null", () => {
  assert.equal(decode("//79"), null);
  assert.equal(decode("-_8"), null); // 0xfb 0xff
  assert.equal(decode("+/8="), null);
});

test("padding where the data does not need it is refused (the Rust decoder accepts it; no server sends it)", () => {
  assert.equal(decode("QQ="), undefined);
  assert.equal(decode("QUI=="), undefined);
  assert.equal(decode("QUI="), "AB");
});

// `run(12, url)`: `new URL(url)`'s host name, port and path, one space apart (src/wasm/sys.rs `url_parts`, which
// `scope::parse` splits in the browser). Node's URL is the WHATWG parser browsers have.
const URL_PARTS = 12;
const parts = (url) => run(URL_PARTS, url);

test("URL parts: host name lowercased, default port left out, path at least /", () => {
  assert.equal(parts("https://API.Example.com"), "api.example.com  /");
  assert.equal(parts("http://api.example.com:80/a/b?x=1#y"), "api.example.com  /a/b");
  assert.equal(parts("https://api.example.com:0443/"), "api.example.com  /");
  assert.equal(parts("http://localhost:03001/x/"), "localhost 3001 /x/");
  assert.equal(parts("http://user:pw@[::1]:8080"), "[::1] 8080 /");
});

test("URL parts: no part holds a space, so the three split back", () => {
  assert.equal(parts("http://example.com/my path/"), "example.com  /my%20path/");
  assert.equal(parts("https://bücher.example/"), "xn--bcher-kva.example  /");
});

test("URL parts: undefined where new URL throws", () => {
  for (const bad of ["http://", "http://a.com:99999", "http://exa mple.com", "/relative", ""]) {
    assert.equal(parts(bad), undefined, bad);
  }
});
