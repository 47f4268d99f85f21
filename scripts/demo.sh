#!/usr/bin/env bash
# One command from a fresh clone to a running demo:
#
#   bash scripts/demo.sh          → http://127.0.0.1:3001/ and the demo inbox's URL  (Ctrl-C stops everything)
#
# It installs what is missing (scripts/setup.sh), builds the npm package, the Vite
# example and the Yew and Leptos examples, starts the Fauna emulator (unless FAUNA_ENDPOINT points
# at a real Fauna) with the example's collection and role, and starts
# fauna-session-server with a SQLite file, serving the example from the same origin.
#
# Environment (all optional):
#   DEMO_PORT=3001               server port (the site and the API, one origin)
#   FAUNA_PORT=8443              emulator port
#   FAUNA_ENDPOINT / FAUNA_SECRET  use this Fauna instead of starting the emulator
#   FAUNA_BROWSER_ENDPOINT       Fauna's URL as the browser sees it (default: FAUNA_ENDPOINT,
#                                with 127.0.0.1 spelled localhost)
#   ACCESS_TOKEN_LIFETIME=60     access-token lifetime in seconds (e2e uses a few)
#   DEMO_STATE_DIR=target/demo   where the SQLite file, site and logs go
#   DEMO_SKIP_SETUP=1            do not run scripts/setup.sh
#   DEMO_SKIP_BUILD=1            reuse what the last run built
#   DEMO_PYTHON=/usr/bin/python3 the Python 3 that has aiosmtpd (Debian's python3-aiosmtpd)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
HOST=127.0.0.1
PORT=${DEMO_PORT:-3001}
FAUNA_PORT=${FAUNA_PORT:-8443}
LIFETIME=${ACCESS_TOKEN_LIFETIME:-60}
STATE=$(mkdir -p "${DEMO_STATE_DIR:-$ROOT/target/demo}" && cd "${DEMO_STATE_DIR:-$ROOT/target/demo}" && pwd)
CARGO_PROFILE=${DEMO_CARGO_PROFILE:-dev}
BIN_DIR=${CARGO_TARGET_DIR:-$ROOT/target}/$([ "$CARGO_PROFILE" = dev ] && echo debug || echo "$CARGO_PROFILE")
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1mdemo:\033[0m %s\n' "$*" >&2; }

# ---- 1. install and build -------------------------------------------------------
if [ "${DEMO_SKIP_SETUP:-0}" != 1 ]; then
  say "installing prerequisites (scripts/setup.sh)"
  bash scripts/setup.sh
fi
if [ "${DEMO_SKIP_BUILD:-0}" != 1 ]; then
  say "building the npm package"
  bash scripts/build-npm.sh >"$STATE/build-npm.log" 2>&1 || { cat "$STATE/build-npm.log" >&2; exit 1; }
  say "building the Vite example"
  (cd www-example && npm ci --no-audit --no-fund && npm run build) >"$STATE/build-www.log" 2>&1 \
    || { cat "$STATE/build-www.log" >&2; exit 1; }
  for app in yew leptos; do
    say "building the $app example"
    bash www-example/build-rust-example.sh "$app" >"$STATE/build-$app.log" 2>&1 || { cat "$STATE/build-$app.log" >&2; exit 1; }
  done
  say "building the server and the Fauna emulator (cargo profile $CARGO_PROFILE)"
  cargo build --profile "$CARGO_PROFILE" -p fauna-session-server -p fauna-emulator
fi

# The site: the Vite build at /, the Rust apps at /yew/ and /leptos/, and where Fauna is.
SITE="$STATE/site"
rm -rf "$SITE"
mkdir -p "$SITE"
cp -r www-example/dist/. "$SITE/"
cp -r www-example/yew/dist "$SITE/yew"
cp -r www-example/leptos/dist "$SITE/leptos"

# ---- 2. start everything, stop it all on exit --------------------------------------
PIDS=()
stop_all() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  say "stopped"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() { # url name pid
  for _ in $(seq 1 300); do
    curl -s -o /dev/null "$1" && return 0
    kill -0 "$3" 2>/dev/null || { say "$2 exited; log:"; cat "$STATE/$2.log" >&2; exit 1; }
    sleep 0.1
  done
  say "$2 did not answer at $1"; exit 1
}

if [ -z "${FAUNA_ENDPOINT:-}" ]; then
  # The emulator keeps nothing after it stops, so start the session database afresh
  # too: old sessions would carry Fauna tokens (and users) the new emulator never saw.
  [ -n "${DATABASE_URL:-}" ] || rm -f "$STATE"/fauna-session.sqlite*
  FAUNA_ENDPOINT="http://$HOST:$FAUNA_PORT"
  FAUNA_SECRET=secret
  say "starting the Fauna emulator on $FAUNA_ENDPOINT"
  # The example's schema: users, and notes that user tokens may read and create.
  FAUNA_EMULATOR_ROOT_KEY=$FAUNA_SECRET "$BIN_DIR/fauna-emulator" --listen "$HOST:$FAUNA_PORT" \
    --collection User --collection Note --token-role "Note:read,create" \
    >"$STATE/fauna-emulator.log" 2>&1 &
  PIDS+=($!)
  wait_for "$FAUNA_ENDPOINT/ping" fauna-emulator "$!"
fi
: "${FAUNA_SECRET:?FAUNA_SECRET must be set with FAUNA_ENDPOINT}"
# The demo's mail: a real SMTP server on a free loopback port, and its inbox page on another
# (every email the server sends, links clickable; newest 50 kept, 256 KiB each at most).
PYTHON=${DEMO_PYTHON:-/usr/bin/python3}
"$PYTHON" -c 'import aiosmtpd' 2>/dev/null \
  || { say "$PYTHON has no aiosmtpd: run scripts/setup.sh (Debian package python3-aiosmtpd)"; exit 1; }
rm -rf "$STATE/mail"
"$PYTHON" server/tests/support/smtp_sink.py "$STATE/mail" --inbox --keep 50 \
  >"$STATE/smtp-inbox.out" 2>"$STATE/smtp-inbox.log" &
PIDS+=($!)
for _ in $(seq 1 100); do
  grep -qs '^INBOX ' "$STATE/smtp-inbox.out" && break
  kill -0 "$!" 2>/dev/null || { say "the SMTP server exited; log:"; cat "$STATE/smtp-inbox.log" >&2; exit 1; }
  sleep 0.1
done
SMTP_PORT=$(awk '$1 == "PORT" { print $2 }' "$STATE/smtp-inbox.out")
INBOX_PORT=$(awk '$1 == "INBOX" { print $2 }' "$STATE/smtp-inbox.out")
[ -n "$SMTP_PORT" ] && [ -n "$INBOX_PORT" ] || { say "the SMTP server did not start"; exit 1; }
INBOX_URL="http://$HOST:$INBOX_PORT/"
say "SMTP server on $HOST:$SMTP_PORT, its inbox at $INBOX_URL"

# Where the browser finds Fauna (read by the examples from /config.json). The session library
# intercepts every request to the API's host name, ports ignored (as supertokens-website 20
# does), so the browser must reach our emulator under another host name than the app's
# 127.0.0.1, or Fauna requests would get session headers and a Fauna 401 would trigger a
# session refresh. A hosted Fauna (db.fauna.com) is another host anyway.
if [ -z "${FAUNA_BROWSER_ENDPOINT:-}" ]; then
  FAUNA_BROWSER_ENDPOINT=${FAUNA_ENDPOINT/\/\/$HOST:/\/\/localhost:}
fi
printf '{ "faunaEndpoint": "%s", "inboxUrl": "%s" }\n' "$FAUNA_BROWSER_ENDPOINT" "$INBOX_URL" >"$SITE/config.json"

URL="http://$HOST:$PORT"
# Each session gets a Fauna token, put into the access-token payload as faunadbToken
# (--fauna-frontend-access). Endpoint and secret go by environment, not argv.
SERVER=("$BIN_DIR/fauna-session-server"
  --listen "$HOST:$PORT"
  --website-origin "$URL"
  --static-dir "$SITE"
  --access-token-lifetime "$LIFETIME"
  --metrics
  --fauna-frontend-access
  # Password-reset and verification emails go to the demo's SMTP server; their links open the
  # example's own pages (<origin>/auth/reset-password, /auth/verify-email). Verification is
  # optional: the st-ev claim is in every session, nothing is refused until it is true.
  --smtp-url "smtp://$HOST:$SMTP_PORT"
  --email-from "fauna-session demo <no-reply@localhost>"
  --website-domain "$URL"
  --email-verification optional)
say "starting fauna-session-server on $URL (access tokens live ${LIFETIME}s)"
FAUNA_ENDPOINT=$FAUNA_ENDPOINT FAUNA_SECRET=$FAUNA_SECRET \
  DATABASE_URL=${DATABASE_URL:-"sqlite://$STATE/fauna-session.sqlite?mode=rwc"} \
  "${SERVER[@]}" >"$STATE/fauna-session-server.log" 2>&1 &
PIDS+=($!)
wait_for "$URL/health" fauna-session-server "$!"

echo
echo "  fauna-session demo:  $URL/"
echo "  Yew example:         $URL/yew/"
echo "  Leptos example:      $URL/leptos/"
echo "  metrics:             $URL/metrics"
echo "  demo inbox:          $INBOX_URL  (the emails the server sends)"
echo "  logs:                $STATE/*.log"
echo "  Ctrl-C to stop."
echo "READY $URL"

# Run until Ctrl-C or until one of the processes dies.
wait -n "${PIDS[@]}"
say "a process exited unexpectedly; logs are in $STATE"
exit 1
