#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, dependency edges, lints, docs,
# tests, bounded fuzzing.
# FUZZ_SECONDS (default 60) bounds each fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "rustfmt"
cargo fmt --all -- --check

step "dependency edges"
scripts/check-deps.sh

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "docs (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "tests"
cargo nextest run --workspace --locked --no-fail-fast
cargo test --workspace --doc --locked

step "web app: types and unit tests"
(cd web && npx tsc --noEmit && npx vitest run --reporter=dot)

step "web app: end to end in Chromium against plexus devnet"
# The binary the tests above built (the cli package's integration tests need it), so
# this step compiles nothing; a plain `cargo build` would resolve features anew.
plexus_bin="${CARGO_TARGET_DIR:-target}/debug/plexus"
[ -x "$plexus_bin" ] || cargo build -p plexus-cli --locked
node web/e2e/run.mjs --plexus "$plexus_bin" ${WEB_SCREENSHOTS:+--screenshots "$WEB_SCREENSHOTS"}

step "fuzzing (${FUZZ_SECONDS:-60}s per target)"
for target in $(cargo fuzz list --fuzz-dir fuzz); do
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" --fuzz-dir fuzz -- \
    -max_total_time="${FUZZ_SECONDS:-60}" -rss_limit_mb=2048 2>&1 | tail -n 3
done

step "all checks passed"
