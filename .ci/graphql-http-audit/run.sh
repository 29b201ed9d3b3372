#!/usr/bin/env bash
# Serves the gateway with its shipped default settings (sandbox, a fresh SQLite file under a
# temporary directory, a free loopback port) and runs the graphql-http audits against it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
gateway="$repo/.venv/bin/billing-gateway"

(cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --silent)

workdir="$(mktemp -d)"
port="$("$repo/.venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# Only the defaults: no configuration variable reaches the server.
(cd "$workdir" && exec env -u DATABASE_URL -u GATEWAY_MODE -u GATEWAY_JWT_SECRET -u GATEWAY_HOST \
  -u GATEWAY_PORT -u CATALOG_FILE -u STRIPE_API_KEY -u PAYMENT_PROCESSOR \
  "$gateway" serve --port "$port" >"$workdir/serve.log" 2>&1) &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$workdir"; }
trap cleanup EXIT

for _ in $(seq 1 120); do
  "$repo/.venv/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
    "http://127.0.0.1:$port/health" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$workdir/serve.log"; echo "the gateway did not start" >&2; exit 1; }
  sleep 0.5
done
node "$here/audit.mjs" "http://127.0.0.1:$port/graphql"
