#!/usr/bin/env bash
# Keep the dependency graph the way ARCHITECTURE.md draws it: no unused dependency in
# any Cargo.toml (cargo machete), and none of the edges below in the normal (non-dev)
# graph of the crate named. Prints every offending edge with its path and exits 1.
# Called by scripts/test.sh; run it alone after changing a Cargo.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0

printf 'cargo machete: unused dependencies\n'
if ! cargo machete; then
  printf '\nunused dependencies above: remove them, or, for a real false positive, list it\n'
  printf 'under [package.metadata.cargo-machete] ignored = [...] with a comment saying why\n'
  status=1
fi

# forbid CRATE WHY DEP...: CRATE's normal dependency graph may contain none of DEP.
forbid() {
  local krate=$1 why=$2
  shift 2
  local tree dep
  if ! tree="$(cargo tree --locked -p "$krate" -e normal --prefix none -f '{p}')"; then
    printf '\ncargo tree failed for %s (is Cargo.lock up to date?)\n' "$krate"
    status=1
    return
  fi
  for dep in "$@"; do
    if grep -q "^$dep v" <<<"$tree"; then
      printf '\nforbidden edge: %s -> %s (%s); the path:\n' "$krate" "$dep" "$why"
      cargo tree --locked -p "$krate" -e normal -i "$dep"
      status=1
    else
      printf 'ok: %s does not depend on %s\n' "$krate" "$dep"
    fi
  done
}

printf '\ncargo tree -e normal: forbidden edges\n'
forbid plexus-ledger "the ledger does no I/O: no storage engine, async runtime or HTTP" \
  redb tokio hyper reqwest
forbid plexus-privacy "privacy is sans-I/O; the spent-token store lives in plexus-provider" \
  redb
forbid plexus-client "clients verify proofs with plexus-storage's proof module, without its db feature" \
  redb
forbid plexus-validator "the validator judges engine-neutral scores; engines depend on it, not the reverse" \
  llama-cpp-2
forbid plexus-sim "the simulation runs the validator's rules offline: no engine, node or service" \
  llama-cpp-2 plexus-inference plexus-node plexus-provider plexus-relay plexus-issuer
forbid plexus-devnet "the devnet spawns plexus processes: no engine and no server crate" \
  plexus-inference plexus-node plexus-api plexus-provider plexus-relay plexus-issuer \
  plexus-validator llama-cpp-2

if [ "$status" -ne 0 ]; then
  printf '\ndependency edges: FAILED\n'
fi
exit "$status"
