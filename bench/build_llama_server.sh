#!/usr/bin/env bash
# Build llama.cpp's own `llama-server` from the llama.cpp source vendored in llama-cpp-python's
# sdist, with the cmake flags of selfcoder's own llama-cpp-python wheel (flags.json beside it), so
# bench/local_server.py compares two servers of the same ggml code and the same CPU tier.
#
#   bench/build_llama_server.sh            # prints the binary's path (builds it once)
#
# Gentle on shared cores: every step runs under `nice -n 19 ionice -c3`, at most JOBS (default 2)
# compile jobs. Idempotent: a binary built with the same flags is reused; a flags change rebuilds.
# Env: LLAMA_CPP_VERSION (0.3.36), FLAGS_JSON (default: the one wheel cache entry of that version),
# JOBS, SELFCODER_HOME (~/.cache/selfcoder), PYTHON (.venv/bin/python: its pip downloads the sdist).
set -euo pipefail

VERSION="${LLAMA_CPP_VERSION:-0.3.36}"
HOME_DIR="${SELFCODER_HOME:-$HOME/.cache/selfcoder}"
DEST="$HOME_DIR/llama-server-$VERSION"
JOBS="${JOBS:-2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
GENTLE=(nice -n 19 ionice -c3)

die() { echo "error: $*" >&2; exit 1; }

if [[ -z "${FLAGS_JSON:-}" ]]; then
    shopt -s nullglob
    found=("$HOME_DIR"/wheels/llama-cpp-python-"$VERSION"-*/flags.json)
    shopt -u nullglob
    [[ ${#found[@]} -eq 1 ]] || die "expected one $HOME_DIR/wheels/llama-cpp-python-$VERSION-*/flags.json, found ${#found[@]} (set FLAGS_JSON)"
    FLAGS_JSON="${found[0]}"
fi
[[ -f "$FLAGS_JSON" ]] || die "no such file: $FLAGS_JSON"
mapfile -t WHEEL_FLAGS < <("$PYTHON" -c 'import json,sys; [print(f) for f in json.load(open(sys.argv[1]))["flags"]]' "$FLAGS_JSON")
[[ ${#WHEEL_FLAGS[@]} -gt 0 ]] || die "$FLAGS_JSON lists no flags"
# Only the server: no tests, examples or web UI (the UI's prebuilt assets are a download; npm is not here).
FLAGS=("${WHEEL_FLAGS[@]}" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF
       -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
       -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF)

BIN="$DEST/build/bin/llama-server"
STAMP="$DEST/build/.flags"
if [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "${FLAGS[*]}" ]]; then
    echo "$BIN"
    exit 0
fi

mkdir -p "$DEST"
SDIST="$DEST/llama_cpp_python-$VERSION.tar.gz"
if [[ ! -f "$SDIST" ]]; then
    "${GENTLE[@]}" "$PYTHON" -m pip download "llama-cpp-python==$VERSION" --no-binary :all: --no-deps \
        -d "$DEST" >&2 || die "pip download of llama-cpp-python==$VERSION failed"
fi
SRC="$DEST/llama_cpp_python-$VERSION/vendor/llama.cpp"
if [[ ! -f "$SRC/tools/server/CMakeLists.txt" ]]; then
    "${GENTLE[@]}" tar xzf "$SDIST" -C "$DEST"
    [[ -f "$SRC/tools/server/CMakeLists.txt" ]] || die "the $VERSION sdist has no llama.cpp server sources ($SRC/tools/server)"
fi

rm -f "$STAMP"
"${GENTLE[@]}" cmake -S "$SRC" -B "$DEST/build" -G Ninja "${FLAGS[@]}" >&2
"${GENTLE[@]}" cmake --build "$DEST/build" --target llama-server -j "$JOBS" >&2
[[ -x "$BIN" ]] || die "the build finished without $BIN"
printf '%s' "${FLAGS[*]}" > "$STAMP"
echo "$BIN"
