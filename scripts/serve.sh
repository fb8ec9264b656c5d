#!/usr/bin/env bash
# Builds the npm package (make pkg), assembles the previewer site into
# www/dist/ (page + the package's web build + examples/traces/*), and serves it
# on http://127.0.0.1:$PORT/ (default 8080) with a small Node static server.
# Usage: scripts/serve.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${1:-${PORT:-8080}}"
command -v node >/dev/null || { echo "serve.sh: node is required" >&2; exit 1; }
make --no-print-directory pkg
node www/build.mjs --out www/dist
exec node www/serve.mjs --root www/dist --host 127.0.0.1 --port "$PORT"
