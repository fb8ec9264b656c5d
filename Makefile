# dify-opik — entry points. Each target installs what it needs.
#   make test    everything CI runs
#   make pkg     build the npm package into pkg/
#   make serve   build and serve the previewer on 127.0.0.1:$(PORT)
#   make bench   print the benchmark table

PORT ?= 8080
SHELL := /bin/bash

.PHONY: test test-rust test-wasm test-js test-requests test-www test-fuzz test-hosts lint pkg serve bench tools

test: lint test-rust test-wasm test-js test-requests test-www test-fuzz test-hosts

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

test-rust:
	cargo test

# Requests from the native CLI, checked with ajv against ../shared's schema
# and sent to a loopback Opik-compatible receiver.
test-requests:
	cargo build --release
	cd tests/receiver && npm ci --no-audit --no-fund && node --test

# The npm package: release wasm, wasm-bindgen glue, wasm-opt; prints the
# .wasm size and fails over the gzipped budget (scripts/build-pkg.sh).
pkg:
	scripts/build-pkg.sh

# The wasm binding: clippy for wasm32, then the wasm-bindgen tests
# (tests/wasm.rs) in Node through wasm-bindgen's runner.
test-wasm:
	scripts/tools.sh rust wasm-bindgen
	cargo clippy --target wasm32-unknown-unknown --all-targets -- -D warnings
	PATH="$$(scripts/tools.sh path):$$PATH" cargo test --target wasm32-unknown-unknown

# The built package (pkg/) with node:test: parity with the native CLI, errors,
# send() against a loopback server, workerd (Miniflare), Chromium, and the
# TypeScript declarations (tsc).
test-js: pkg
	scripts/tools.sh chromium
	cd pkg && npm test

# The package in its hosts, against the loopback Opik receiver (tests/receiver):
# the Node command (pkg/cli: map, send with resume and backfill, npx from the
# packed package) and the edge worker (examples/worker: bundled by wrangler,
# run in workerd by Miniflare). All offline, on 127.0.0.1.
test-hosts: pkg
	cd tests/receiver && npm ci --no-audit --no-fund
	cd examples/worker && npm ci --no-audit --no-fund
	cd pkg && DIFY_OPIK_HOST_TESTS=1 node --test test/cli.test.mjs test/cli-send.test.mjs
	cd examples/worker && npm test

serve:
	scripts/serve.sh $(PORT)

# Browser tests of the previewer (www/) in headless Chromium (Debian's), driven
# by playwright-core; expected output comes from the native CLI.
test-www: pkg
	@if [ ! -x /usr/bin/chromium ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; \
	fi
	cd www && npm ci --no-audit --no-fund
	cargo build --release --bin dify-opik
	cd www && DIFY_OPIK_CLI=../target/release/dify-opik npm test

# A short fuzz run (about 20 s per target; scripts/fuzz.sh SECONDS for longer).
test-fuzz:
	scripts/fuzz.sh 20

# The benchmark table (BENCHMARKS.md): native Criterion figures, then the
# npm package in Node. BENCH_QUICK=1 for a short smoke run.
bench:
	scripts/bench.sh
