#!/usr/bin/env bash
# Fuzzes the core with cargo-fuzz (libFuzzer + AddressSanitizer, overflow
# checks and debug assertions on).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Defaults: 20 s for each of the four targets (map_bytes, envelope,
# options_requests, decimal); `make test-fuzz` runs that. For a long run, e.g.
# `scripts/fuzz.sh 3600 envelope`. Options: FUZZ_JOBS=N runs N workers per
# target; FUZZ_TOOLCHAIN=nightly uses `cargo +nightly` instead of the default.
#
# Toolchain: cargo-fuzz passes `-Z` flags (the sanitizer), which only nightly
# accepts. This machine's one toolchain is stable 1.95, so the script uses it
# with RUSTC_BOOTSTRAP=1, which unlocks `-Z` flags on a stable compiler (the
# AddressSanitizer runtime ships with the stable x86_64 Linux std).
#
# Installs cargo-fuzz (once, outside the clone, like the other tools). The
# corpus grows in fuzz/corpus/TARGET (git-ignored) and starts from the
# repository's example traces and ../shared's fixtures. A crash leaves its
# input in fuzz/artifacts/TARGET and fails the script; reproduce it with
# `scripts/fuzz.sh repro TARGET FILE`, then turn it into a regression test
# (tests/proptest_map.rs, "regressions").
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
TOOLS="$HOME/.cache/dify-opik-tools/cargo-fuzz-$CARGO_FUZZ_VERSION"
if [ "$("$TOOLS/bin/cargo-fuzz" --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION into $TOOLS" >&2
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$TOOLS"
fi
export PATH="$TOOLS/bin:$PATH"

if [ "${FUZZ_TOOLCHAIN:-}" != "" ]; then
  CARGO=(cargo "+$FUZZ_TOOLCHAIN")
else
  export RUSTC_BOOTSTRAP=1
  CARGO=(cargo)
fi
# Build flags shared by build, run and repro (the same flags reuse one build).
BUILD=(--release --debug-assertions --sanitizer address)

ALL_TARGETS=(map_bytes envelope options_requests decimal)

seed() {
  # Seeds: map_bytes takes 8 option bytes and then the text; the others
  # start empty (envelope builds its own structure from any bytes).
  local t=$1 dir="fuzz/corpus/$1"
  mkdir -p "$dir"
  if [ "$t" = map_bytes ] && [ -z "$(ls -A "$dir")" ]; then
    local f n=0
    for f in examples/traces/*.json ../shared/reference/fixtures/*.json; do
      [ -f "$f" ] || continue
      case "$f" in *.expected.json) continue ;; esac
      n=$((n + 1))
      { printf '\x00\x00\x00\x00\x00\x00\x00\x00'; cat "$f"; } >"$dir/seed-$n"
      { printf '\x01\x00\x01\x00\x00\x00\x00\x00'; cat "$f"; } >"$dir/seed-ref-$n"
    done
  fi
}

if [ "${1:-}" = repro ]; then
  [ $# -eq 3 ] || { echo "usage: scripts/fuzz.sh repro TARGET FILE" >&2; exit 2; }
  exec "${CARGO[@]}" fuzz run "${BUILD[@]}" "$2" "$3"
fi

SECS=${1:-20}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")

"${CARGO[@]}" fuzz build "${BUILD[@]}"
mkdir -p fuzz/artifacts
JOBS=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then JOBS=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS"); fi
for t in "${TARGETS[@]}"; do
  seed "$t"
  log="fuzz/artifacts/$t.log"
  echo "fuzz: $t for ${SECS}s (log: $log)" >&2
  # -max_len: the example workflow traces are up to ~70 KB.
  set +e
  "${CARGO[@]}" fuzz run "${BUILD[@]}" "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$SECS" -max_len=131072 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "${JOBS[@]}" >"$log" 2>&1
  rc=$?
  set -e
  grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY|thread .* panicked|==[0-9]+==ERROR|Test unit written)' "$log" >&2 || true
  if [ $rc != 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz: $t FAILED; the input is in fuzz/artifacts/$t" >&2
    exit 1
  fi
done
echo "fuzz: no crash in ${TARGETS[*]}" >&2
