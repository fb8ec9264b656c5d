#!/usr/bin/env bash
# Builds the npm package's generated part, pkg/dist/ (never committed):
#   1. the release wasm (cargo, wasm32-unknown-unknown, the lib only);
#   2. the JS glue (wasm-bindgen --target web: one glue file serves Node, which
#      reads the .wasm itself, browsers and workers);
#   3. wasm-opt -O3 (and the flags below) from npm's binaryen;
# then prints the .wasm size, raw and gzipped, and fails when the gzipped
# size is over the budget (WASM_GZIP_BUDGET overrides it, in bytes).
#
# The budget: 150,000 bytes gzipped (gzip -9) at opt-level 3, the
# speed-optimised build (opt-level "s" saves nothing more once the inline
# flags below are set, and "z" is about twice as slow). The build was 182,341
# bytes; slimming the code (one value call per struct reader, no
# serde_json::Value, BTreeMap or hash maps, one shared sort, one reader for
# the options, config and limits objects, cold helpers out of line, only the
# exports the wrapper calls), zmij at opt-level "s" and, for wasm32, no
# inlining into cold call sites and a lower inline threshold
# (.cargo/config.toml) brought it to about 149,150 bytes. The wasm-opt flags
# below took 1.4 KB off, -ocimfs costs 180 bytes, and the UTF-16 input path
# (src/utf16.rs) about 900 bytes: about 148,900 bytes. Reading floats with
# src/decimal.rs instead of the standard library's parser (and its table of
# powers of five) took 10.7 KB off: about 139,800 bytes. See BENCHMARKS.md,
# "Size", for what is left.
#
#   scripts/build-pkg.sh        (what `make pkg` runs)
set -euo pipefail
cd "$(dirname "$0")/.."

BUDGET="${WASM_GZIP_BUDGET:-150000}"

scripts/tools.sh rust wasm-bindgen npm
PATH="$(scripts/tools.sh path):$PATH"

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --lib --target wasm32-unknown-unknown
WASM="$TARGET_DIR/wasm32-unknown-unknown/release/dify_opik.wasm"

OUT=pkg/dist
rm -rf "$OUT"
mkdir -p "$OUT"
wasm-bindgen --target web --out-dir "$OUT" --out-name dify_opik "$WASM"
# --low-memory-unused (below) assumes that nothing lives below address 1024:
# check that no data segment starts there (rustc links the stack first, so
# data starts at 1 MiB; this fails the build if a toolchain ever changes that).
low=$(pkg/node_modules/.bin/wasm-dis "$OUT/dify_opik_bg.wasm" |
  sed -nE 's/^ \(data [^ ]* \(i32\.const ([0-9]+)\).*/\1/p' | sort -n | head -n 1)
if [ -z "$low" ] || [ "$low" -lt 1024 ]; then
  echo "build-pkg.sh: lowest data segment at '${low}', not at or above 1024: --low-memory-unused would be unsafe" >&2
  exit 1
fi
# -O3, repeated until it changes nothing more (-c). -ocimfs 1000: a function
# with a single caller is inlined only when it is under 1,000 bytes (binaryen
# inlines them whatever their size by default). The message and workflow
# mappers stay functions of their own, so the first call compiles only the
# one it needs: the first message trace compiles 27 KB of mapping code
# instead of 66 KB: about 2 ms of cold start (BENCHMARKS.md), for a wasm
# core about 1 % slower, within noise. --low-memory-unused lets wasm-opt fold
# constant offsets into loads and stores, on the assumption checked above
# (the stack grows down from 1 MiB, so only a stack already 1 MiB deep could
# reach the low kilobyte). The producers and target-features sections are
# tool metadata that no engine reads. Together about -1.4 KB gzipped.
pkg/node_modules/.bin/wasm-opt -O3 -c -ocimfs 1000 --low-memory-unused --strip-producers --strip-target-features \
  "$OUT/dify_opik_bg.wasm" -o "$OUT/dify_opik_bg.opt.wasm"
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
