#!/usr/bin/env bash
# Maps the bundled example traces and prints the Opik payloads.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
for f in examples/traces/*.json; do
  echo "== $f"
  ./target/release/dify-opik map --pretty "$f" || true
done
