# dify-opik — entry points. Each target installs what it needs.
#   make test    everything CI runs
#   make pkg     build the npm package into pkg/
#   make serve   build and serve the previewer on 127.0.0.1:$(PORT)
#   make bench   print the benchmark table

PORT ?= 8080
SHELL := /bin/bash

.PHONY: test test-rust test-requests lint pkg serve bench tools

test: lint test-rust test-requests

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

pkg:
	scripts/build-pkg.sh

serve:
	scripts/serve.sh $(PORT)

bench:
	scripts/bench.sh
