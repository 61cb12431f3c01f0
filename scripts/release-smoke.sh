#!/usr/bin/env bash
# Release smoke test: build and start the server the way the README and the Dockerfile do. Run by
# .ci/run and the GitHub workflow after lint and typecheck. A green test run once hid a build that
# could not compile and a server that could not start; every failure here fails CI with the
# server's log printed.
#
#   SMOKE_DATABASE_URL=postgres://... SMOKE_REDIS_URL=redis://... [SMOKE_CLAMAV_URL=tcp://...] \
#     bash scripts/release-smoke.sh
#
# The database must be empty (a fresh production install); the Redis URL should name a database
# nothing else uses. Steps: npm run build; npm start on a fresh DATA_DIR; node dist/server.js with
# NODE_ENV=production from a copy holding dist/, web/ and the production dependencies only;
# portfolio-admin --help from that copy. Each start must answer 200 on /health/ready within SMOKE_START_TIMEOUT seconds (180: a deadline for a busy machine, not a measure; `npm start` compiles first).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${SMOKE_DATABASE_URL:?set SMOKE_DATABASE_URL to an empty PostgreSQL database}"
: "${SMOKE_REDIS_URL:?set SMOKE_REDIS_URL to a Redis database for this smoke test}"
log() { printf '\n== %s\n' "$*"; }

SMOKE_DIR=$(mktemp -d /tmp/pf-smoke.XXXXXX)
SMOKE_START_TIMEOUT=${SMOKE_START_TIMEOUT:-180}
SMOKE_PID=
stop_smoke() {
  if [ -n "$SMOKE_PID" ]; then
    kill -TERM -- "-$SMOKE_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SMOKE_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$SMOKE_PID" 2>/dev/null || true
    SMOKE_PID=
  fi
}
trap 'stop_smoke; rm -rf "$SMOKE_DIR"' EXIT
# start_smoke NAME PORT DIR COMMAND...: starts COMMAND in DIR (its own process group, log in
# $SMOKE_DIR/NAME.log) and waits up to SMOKE_START_TIMEOUT s for 200 from /health/ready on 127.0.0.1:PORT.
start_smoke() {
  local name=$1 port=$2 dir=$3
  shift 3
  local logf="$SMOKE_DIR/$name.log"
  (cd "$dir" && exec setsid "$@" >"$logf" 2>&1) &
  SMOKE_PID=$!
  local start=$SECONDS
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/ready" 2>/dev/null)" = 200 ]; do
    if ! kill -0 "$SMOKE_PID" 2>/dev/null; then
      cat "$logf"; echo "$name: the server exited before it was ready" >&2; exit 1
    fi
    if [ $((SECONDS - start)) -ge "$SMOKE_START_TIMEOUT" ]; then
      cat "$logf"; echo "$name: /health/ready did not answer 200 within $SMOKE_START_TIMEOUT s" >&2; exit 1
    fi
    sleep 0.5
  done
  echo "$name: ready in $((SECONDS - start)) s"
}

# free_port: a port no one listens on, below the kernel's ephemeral range (32768-60999 here), so
# no outgoing connection of another process can take it between this check and the server's
# listen (a fixed port in that range once failed the smoke start with EADDRINUSE on a busy machine).
free_port() {
  node -e '
    const net = require("node:net");
    const tryOne = () => {
      const port = 20000 + Math.floor(Math.random() * 12000);
      const s = net.createServer().once("error", tryOne);
      s.listen(port, "127.0.0.1", () => s.close(() => console.log(port)));
    };
    tryOne();'
}

# console_smoke PORT: the web console is served (index.html no-store with its CSP, and its script).
console_smoke() {
  local port=$1 page script
  page=$(curl -s -D "$SMOKE_DIR/console.headers" "http://127.0.0.1:$port/reset-password")
  grep -qi "^cache-control: no-store" "$SMOKE_DIR/console.headers" \
    && grep -qi "^content-security-policy: default-src 'none'" "$SMOKE_DIR/console.headers" \
    || { cat "$SMOKE_DIR/console.headers"; echo "console: /reset-password is not the console page" >&2; exit 1; }
  script=$(printf '%s' "$page" | grep -o '/assets/[A-Za-z0-9_.-]*\.js' | head -n 1)
  [ -n "$script" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$script")" = 200 ] \
    || { echo "console: its script ${script:-(none)} is not served" >&2; exit 1; }
  echo "console: served on $port"
}

log "build (npm run build, as the README and the Dockerfile do)"
npm run build

log "start: the README's start command (npm start) on a fresh DATA_DIR"
PORT_START=$(free_port)
start_smoke npm-start "$PORT_START" . env DATA_DIR="$SMOKE_DIR/data" HOST=127.0.0.1 PORT="$PORT_START" npm start
console_smoke "$PORT_START"
stop_smoke

log "start: production dependencies only, NODE_ENV=production, as the container runs it"
# The Dockerfile's runtime stage: dist/, web/ and the lockfile's production dependencies, installed
# without running any install script. Nothing from the dev tree is reachable from here.
PROD_DIR="$SMOKE_DIR/app"
mkdir -p "$PROD_DIR"
cp package.json package-lock.json SECURITY.md "$PROD_DIR/"
cp -r dist web "$PROD_DIR/"
rm -f "$PROD_DIR/dist/.tsbuildinfo"
(cd "$PROD_DIR" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund)
PORT_PROD=$(free_port)
start_smoke production "$PORT_PROD" "$PROD_DIR" env -i PATH="$PATH" HOME="$PROD_DIR" NODE_ENV=production \
  HOST=127.0.0.1 PORT="$PORT_PROD" DATA_DIR="$SMOKE_DIR/prod-data" PUBLIC_URL=https://portfolio.example \
  DATABASE_URL="$SMOKE_DATABASE_URL" REDIS_URL="$SMOKE_REDIS_URL" ${SMOKE_CLAMAV_URL:+CLAMAV_URL="$SMOKE_CLAMAV_URL"} \
  JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  AUDIT_SIGNING_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  MFA_ENCRYPTION_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  AUDIT_PII_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  SECURITY_CONTACT=mailto:security@portfolio.example \
  SECURITY_TXT_EXPIRES="$(date -u -d '+180 days' +%Y-%m-%dT00:00:00Z)" \
  node dist/server.js
console_smoke "$PORT_PROD"
stop_smoke

log "CLI: portfolio-admin --help from dist/ with production dependencies only"
if ! (cd "$PROD_DIR" && node dist/cli/main.js --help >"$SMOKE_DIR/cli.log" 2>&1); then
  cat "$SMOKE_DIR/cli.log"; echo "portfolio-admin --help failed" >&2; exit 1
fi
grep -q 'Usage: portfolio-admin' "$SMOKE_DIR/cli.log" || { cat "$SMOKE_DIR/cli.log"; echo "portfolio-admin --help printed no usage" >&2; exit 1; }
