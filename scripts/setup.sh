#!/usr/bin/env bash
# Installs what the build, the demo and the tests need, and only what is missing: the wasm32
# target, Debian's chromium and chromium-driver, the wasm-bindgen CLI at the version in
# Cargo.lock, wasm-pack, and the npm dev dependencies (binaryen's wasm-opt among them).
# Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."

have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
say() { printf '[setup] %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! have chromium || ! have chromedriver; then
  say "installing Debian's chromium and chromium-driver"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
locked=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
installed=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$installed" != "$locked" ]; then
  say "installing wasm-bindgen-cli $locked (was: ${installed:-none})"
  # --locked fails for some releases (their lock names a yanked crate); retry without it.
  cargo install wasm-bindgen-cli --version "=$locked" --locked || cargo install wasm-bindgen-cli --version "=$locked"
fi

if ! have wasm-pack; then
  say "installing wasm-pack"
  cargo install wasm-pack --version =0.15.1 --locked
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dev dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi
