#!/usr/bin/env bash
# All the tests, as CI runs them on a fresh machine: installs what is missing, then checks
# formatting and lints (native and wasm32), runs the native tests (module core, companion),
# the browser and Node tests of the wasm module (wasm-pack, headless Chromium), builds the npm
# package with its size budget, and runs the packaging and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "format"
cargo fmt --all -- --check

step "lint (native, wasm32 with std, wasm32 npm builds: default, consent, companion, register)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p altegio-analytics --target wasm32-unknown-unknown --all-targets --locked -- -D warnings
cargo clippy -p altegio-analytics --target wasm32-unknown-unknown --lib --no-default-features --locked -- -D warnings
cargo clippy -p altegio-analytics --target wasm32-unknown-unknown --lib --no-default-features --features consent --locked -- -D warnings
cargo clippy -p altegio-analytics --target wasm32-unknown-unknown --lib --no-default-features --features companion --locked -- -D warnings
cargo clippy -p altegio-analytics --target wasm32-unknown-unknown --lib --no-default-features --features connect --locked -- -D warnings

step "native tests (core, companion)"
cargo test --workspace --locked
# The core as the default npm build has it (no `consent` or `companion` feature: their cfg
# paths differ).
cargo test -p altegio-analytics --lib --no-default-features --features std --locked

step "browser and Node tests of the wasm module (headless Chromium)"
WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/pkg-config/webdriver.json" \
  wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)" -- --locked
# The Node-only suite: a browser run skips it (it is not configured for browsers).
wasm-pack test --node -- --locked --test node_api

step "npm package build and size budget"
npm run build --silent

step "packaging and end-to-end tests"
# A test that hangs (a page call never answering) fails after 3 minutes instead of holding CI.
node --test --test-timeout=180000 --test-force-exit tests/package/ tests/e2e/
