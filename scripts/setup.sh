#!/usr/bin/env bash
# Install everything Plexus needs on a fresh Debian machine: system packages,
# the Rust components and tools the checks use. Safe to run twice.
set -euo pipefail

need_apt=()
# python3-venv and python3-pip: the synth parity tests build a venv with sdmetrics.
for pkg in build-essential cmake libclang-dev pkg-config python3-venv python3-pip; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

rustup component add rustfmt clippy >/dev/null 2>&1 || true
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked

cargo fetch --locked
(cd fuzz && cargo fetch)
echo "setup complete"
