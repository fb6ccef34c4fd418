#!/bin/sh
# The roles of deploy/compose.yaml: `init` (keys and genesis, once), `validator N`,
# `full`, `relay` and `provider`. Every node keeps its folder under $PLEXUS_SHARED
# (one volume). Hosts, ports and p2p flags come from the environment, so the same
# script runs outside containers (deploy/README.md shows it on loopback).
set -eu

SHARED="${PLEXUS_SHARED:-/shared}"
VALIDATORS="${PLEXUS_VALIDATORS:-4}"
# Inside the compose network: private addresses, commonware's recommended profile.
P2P_FLAGS="${PLEXUS_P2P_FLAGS:---allow-private-ips}"
export PLEXUS_WALLETS="$SHARED/wallets" PLEXUS_PASSWORD="${PLEXUS_PASSWORD:-compose-devnet}"

# The address peers dial NODE at (default: its service name), where it listens, and
# where its API listens.
dial() { eval "echo \"\${PLEXUS_DIAL_$1:-$1:30300}\""; }
listen() { eval "echo \"\${PLEXUS_LISTEN_$1:-0.0.0.0:30300}\""; }
api() { eval "echo \"\${PLEXUS_API_$1:-0.0.0.0:7070}\""; }
key() { jq -r .public_key "$SHARED/$1.key.json"; }
bootstrapper() { echo "$(key "$1")@$(dial "$1")"; }
genesis_hash() { plexus --json genesis show --file "$SHARED/genesis.json" | jq -r .hash; }
wait_for() { until [ -e "$1" ]; do sleep 1; done; }

role="${1:?role: init | validator N | full | relay | provider}"
case "$role" in
init)
  [ -f "$SHARED/genesis.json" ] && exit 0
  mkdir -p "$SHARED"
  nodes="full"
  i=0
  while [ "$i" -lt "$VALIDATORS" ]; do nodes="$nodes v$i"; i=$((i + 1)); done
  for n in $nodes; do
    plexus --json node --dir "$SHARED/$n" --p2p "$(listen "$n")" --show-key >"$SHARED/$n.key.json"
  done
  plexus genesis init --file "$SHARED/genesis.json.tmp" --chain-id 4242 --dev-faucet >/dev/null
  for n in $nodes; do
    [ "$n" = full ] || plexus genesis add-validator "$(key "$n")" --file "$SHARED/genesis.json.tmp" >/dev/null
  done
  mv "$SHARED/genesis.json.tmp" "$SHARED/genesis.json"
  plexus genesis show --file "$SHARED/genesis.json"
  ;;
validator)
  n="v${2:?validator index}"
  wait_for "$SHARED/genesis.json"
  next="v$(((${2} + 1) % VALIDATORS))"
  # shellcheck disable=SC2086 # P2P_FLAGS is a list of flags
  exec plexus node --dir "$SHARED/$n" --genesis "$SHARED/genesis.json" \
    --genesis-hash "$(genesis_hash)" --api "$(api "$n")" --p2p "$(listen "$n")" \
    --external-address "$(dial "$n")" --bootstrapper "$(bootstrapper "$next")" \
    --follower "$(key full)" --no-data-store $P2P_FLAGS
  ;;
full)
  wait_for "$SHARED/genesis.json"
  # The published faucet key is a development chain's: --dev serves it anyway.
  # shellcheck disable=SC2086
  exec plexus node --dir "$SHARED/full" --full --genesis "$SHARED/genesis.json" \
    --genesis-hash "$(genesis_hash)" --api "$(api full)" --p2p "$(listen full)" \
    --external-address "$(dial full)" --bootstrapper "$(bootstrapper v0)" \
    --bootstrapper "$(bootstrapper v1)" --dev --no-data-store $P2P_FLAGS
  ;;
relay)
  exec plexus relay --listen "${PLEXUS_RELAY_LISTEN:-0.0.0.0:7080}" --allow-private-targets
  ;;
provider)
  # First start: fund an operator from the development faucet, create the inference
  # subnet and stake its validator hotkey (as `plexus devnet` does).
  until plexus subnet list >/dev/null 2>&1; do sleep 1; done
  if [ ! -f "$SHARED/subnet" ]; then
    plexus wallet create --name op --hotkey provider --overwrite >/dev/null
    plexus wallet create --name op --hotkey validator >/dev/null
    plexus wallet faucet --name op --amount 1000 >/dev/null
    plexus --json subnet create --name op --subnet-name inference --mechanism inference |
      jq -r .netuid >"$SHARED/subnet.tmp"
    plexus subnet register --name op --hotkey validator --netuid "$(cat "$SHARED/subnet.tmp")" >/dev/null
    plexus stake add --name op --hotkey validator --amount 100 >/dev/null
    mv "$SHARED/subnet.tmp" "$SHARED/subnet"
  fi
  exec plexus provider --name op --hotkey provider --netuid "$(cat "$SHARED/subnet")" \
    --listen "${PLEXUS_PROVIDER_LISTEN:-0.0.0.0:8080}" \
    --public-url "${PLEXUS_PROVIDER_URL:-http://provider:8080}" \
    --api-listen "${PLEXUS_PROVIDER_API:-127.0.0.1:8081}" --threads "${PLEXUS_THREADS:-2}"
  ;;
*)
  echo "unknown role $role" >&2
  exit 2
  ;;
esac
