#!/usr/bin/env bash
# Builds the npm package's generated part, pkg/dist/ (never committed):
#   1. the release wasm (cargo, wasm32-unknown-unknown, the lib only);
#   2. the JS glue (wasm-bindgen --target web: one glue file serves Node, which
#      reads the .wasm itself, browsers and workers);
#   3. wasm-opt -O3 from npm's binaryen;
# then prints the .wasm size, raw and gzipped, and fails when the gzipped
# size is over the budget (150 KiB; WASM_GZIP_BUDGET overrides it, in bytes).
#
#   scripts/build-pkg.sh        (what `make pkg` runs)
set -euo pipefail
cd "$(dirname "$0")/.."

BUDGET="${WASM_GZIP_BUDGET:-153600}"

scripts/tools.sh rust wasm-bindgen npm
PATH="$(scripts/tools.sh path):$PATH"

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --lib --target wasm32-unknown-unknown
WASM="$TARGET_DIR/wasm32-unknown-unknown/release/dify_opik.wasm"

OUT=pkg/dist
rm -rf "$OUT"
mkdir -p "$OUT"
wasm-bindgen --target web --out-dir "$OUT" --out-name dify_opik "$WASM"
pkg/node_modules/.bin/wasm-opt -O3 "$OUT/dify_opik_bg.wasm" -o "$OUT/dify_opik_bg.opt.wasm"
mv "$OUT/dify_opik_bg.opt.wasm" "$OUT/dify_opik_bg.wasm"
# The package declares its own types (pkg/index.d.ts); the glue's are kept for
# reference only and are not published.
rm -f "$OUT/dify_opik_bg.wasm.d.ts"

raw=$(wc -c <"$OUT/dify_opik_bg.wasm")
gz=$(gzip -9 -c "$OUT/dify_opik_bg.wasm" | wc -c)
glue=$(wc -c <"$OUT/dify_opik.js")
printf 'pkg/dist/dify_opik_bg.wasm: %d bytes raw, %d bytes gzipped (budget %d); glue %d bytes\n' \
  "$raw" "$gz" "$BUDGET" "$glue"
if [ "$gz" -gt "$BUDGET" ]; then
  echo "build-pkg.sh: the gzipped .wasm is $((gz - BUDGET)) bytes over the budget" >&2
  exit 1
fi
