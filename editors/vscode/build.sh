#!/usr/bin/env bash
# Build the VS Code extension into editors/vscode/selfcoder.vsix (idempotent):
# npm ci (from the committed package-lock.json) when node_modules does not match it, a type check
# (tsc), one bundle (esbuild: dist/extension.js with vscode-languageclient inside), then
# `vsce package`. @vscode/vsce needs Node >= 22: the `node` on PATH if new enough, else the one
# scripts/ensure-editors.sh installs ($SELFCODER_EDITORS_HOME/node24).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="${SELFCODER_EDITORS_HOME:-$HOME/.cache/selfcoder-editors}"
cd "$HERE"

node_ok() { "${1:-node}" -e "process.exit(+process.versions.node.split('.')[0] >= 22 ? 0 : 1)" 2>/dev/null; }
if ! node_ok node; then
  if node_ok "$TOOLS/node24/node_modules/node/bin/node"; then
    export PATH="$TOOLS/node24/node_modules/node/bin:$PATH"
  else
    echo "build.sh: Node >= 22 is needed (vsce); run scripts/ensure-editors.sh, which installs one" >&2
    exit 1
  fi
fi

lock="$(sha256sum package-lock.json | cut -c1-16)"
if [ "$(cat node_modules/.selfcoder-lock 2>/dev/null)" != "$lock" ]; then
  echo "build.sh: npm ci" >&2
  npm ci --loglevel=error --no-fund --no-audit >&2
  echo "$lock" > node_modules/.selfcoder-lock
fi
npx --no-install tsc --noEmit -p .
npx --no-install esbuild src/extension.ts --bundle --outfile=dist/extension.js --external:vscode \
  --format=cjs --platform=node --target=node18 --log-level=warning
npx --no-install vsce package --no-dependencies --skip-license --allow-missing-repository -o selfcoder.vsix >&2
echo "build.sh: $HERE/selfcoder.vsix" >&2
