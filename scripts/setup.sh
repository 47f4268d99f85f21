#!/usr/bin/env bash
# Installs what building, running the demo and testing need on a fresh Debian machine with the Rust toolchain.
# Idempotent: each step checks first and does nothing when the tool is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== setup: %s\n' "$*"; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# --- Debian packages -------------------------------------------------------------------------------------------
# chromium + chromium-driver: browser tests and Playwright; binaryen: wasm-opt for the npm build;
# postgresql: the PostgreSQL test clusters (tests start their own); wrk: the load script; curl: readiness probes;
# firefox-esr, and webkit2gtk-driver (WebKitWebDriver + MiniBrowser) with xvfb/xauth for its display: the browser
# tests in Firefox and WebKit; python3-aiosmtpd: the real SMTP server the account (email) tests start on loopback.
apt_pkgs=(chromium chromium-driver binaryen postgresql wrk curl firefox-esr webkit2gtk-driver xvfb xauth python3-aiosmtpd)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- Node.js tooling ------------------------------------------------------------------------------------------
# The example's Vite 8 needs npm 11 (npm 10 fails to install it); some machine images start with npm 10.
npm_major=$(npm --version 2>/dev/null | cut -d. -f1 || echo 0)
if [ "${npm_major:-0}" -lt 11 ]; then
  log "npm install -g npm@11 (found npm $(npm --version 2>/dev/null || echo none))"
  $SUDO npm install -g npm@11 --no-audit --no-fund --loglevel=error
fi

# --- Rust targets and tools ------------------------------------------------------------------------------------
if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
# scripts/check.sh (test.sh's first stage) runs cargo fmt and cargo clippy.
for component in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^$component"; then
    log "rustup component add $component"
    rustup component add "$component"
  fi
done

# The npm build's compiler (scripts/wasm-post.sh says why): a pinned nightly with rust-src (core and alloc are built
# from source for it) and the wasm32 target (wasm-pack looks for it). About 30 s; stable stays the default.
npm_toolchain=$(awk -F= '/^NPM_TOOLCHAIN=/{print $2}' scripts/wasm-post.sh)
if ! rustup component list --toolchain "$npm_toolchain" --installed 2>/dev/null | grep -q '^rust-src' \
  || ! rustup target list --toolchain "$npm_toolchain" --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  log "rustup toolchain install $npm_toolchain (rust-src, wasm32-unknown-unknown)"
  rustup toolchain install "$npm_toolchain" --profile minimal -c rust-src -t wasm32-unknown-unknown
fi

# wasm-bindgen CLI must equal the wasm-bindgen crate version in Cargo.lock.
wbg_want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
wbg_have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$wbg_have" != "$wbg_want" ]; then
  log "cargo install wasm-bindgen-cli $wbg_want (about 9 minutes on 2 cores)"
  cargo install wasm-bindgen-cli --version "$wbg_want" --locked 2>/dev/null \
    || cargo install wasm-bindgen-cli --version "$wbg_want"
fi

if ! command -v wasm-pack >/dev/null 2>&1; then
  log "cargo install wasm-pack"
  cargo install wasm-pack --locked 2>/dev/null || cargo install wasm-pack
fi

# cargo-deny checks the dependency tree's licences and sources (scripts/check.sh; deny.toml). About 4 minutes.
deny_want=0.20.2
if [ "$(cargo deny --version 2>/dev/null | awk '{print $2}')" != "$deny_want" ]; then
  log "cargo install cargo-deny $deny_want (about 4 minutes on 2 cores)"
  cargo install cargo-deny --version "$deny_want" --locked
fi

# geckodriver drives Firefox for the browser tests (Debian has no package of it).
if ! command -v geckodriver >/dev/null 2>&1; then
  log "cargo install geckodriver (about 8 minutes on 2 cores)"
  cargo install geckodriver --locked 2>/dev/null || cargo install geckodriver
fi

log "done"
