# Shared helpers for scripts/setup and scripts/test. Every step is idempotent:
# it checks first and only installs what is missing, so re-runs are fast.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root for: $*" >&2; return 1; fi
}

# System packages: bubblewrap (the default sandbox), Debian's python3 + pytest (what runs
# inside sandboxes), git and patch (snapshots, patch validation), python3-venv (our venv),
# libcairo2 (the lineage picture as PNG, through cairosvg).
ensure_system_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing system packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

pick_python() {
  for cand in python3.13 python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  echo "selfcoder needs Python >= 3.11 (none found on PATH)" >&2; return 1
}

# The project's virtual environment with selfcoder installed editable (+ test extras).
ensure_venv() {
  local stamp="$VENV/.selfcoder-installed"
  local want
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
  if [ ! -x "$PY" ]; then
    say "creating $VENV"
    "$(pick_python)" -m venv "$VENV"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing selfcoder and its dependencies into .venv"
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q -e "$ROOT[dev]"
    echo "$want" > "$stamp"
  fi
}
