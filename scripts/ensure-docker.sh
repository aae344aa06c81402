#!/usr/bin/env bash
# Make a Docker engine and selfcoder's offline base image available (idempotent; run as root).
#
# Why: the `docker` sandbox backend needs a running engine and the image `selfcoder-base:bookworm`
# (or $SELFCODER_SANDBOX__IMAGE). No registry is reachable on our machines, so the image is built
# offline from the apt mirror (debootstrap + docker import) by `selfcoder sandbox build-image`.
#
# Steps, each skipped when already done:
#   1. apt-get install docker.io and debootstrap if missing;
#   2. if no engine answers on $DOCKER_HOST or /var/run/docker.sock, start dockerd in the
#      background (log: /var/log/selfcoder-dockerd.log) and wait up to 60 s for it to answer;
#   3. build the base image if the engine does not have it.
# Works non-interactively (CI=true) on a clean Debian/Ubuntu machine.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${SELFCODER_SANDBOX__IMAGE:-selfcoder-base:bookworm}"
LOG=/var/log/selfcoder-dockerd.log
WAIT_S="${SELFCODER_DOCKERD_WAIT_S:-60}"

say() { echo "ensure-docker: $*" >&2; }
die() { say "error: $*"; exit 1; }

engine_answers() {
    # `docker version` only succeeds when the server part answers.
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# 1. packages ------------------------------------------------------------------
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if ((${#missing[@]})); then
    [[ $(id -u) -eq 0 ]] || die "missing ${missing[*]}; run this script as root (or: sudo apt-get install -y ${missing[*]})"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; then
        apt-get update -q >/dev/null
        apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

# 2. engine --------------------------------------------------------------------
if engine_answers; then
    say "engine answers (server $(docker version --format '{{.Server.Version}}'))"
else
    if [[ -n "${DOCKER_HOST:-}" && "${DOCKER_HOST}" != "unix:///var/run/docker.sock" ]]; then
        die "DOCKER_HOST=${DOCKER_HOST} does not answer; start that engine, or unset DOCKER_HOST to use a local dockerd"
    fi
    [[ $(id -u) -eq 0 ]] || die "no Docker engine answers; run this script as root to start dockerd"
    if pgrep -x dockerd >/dev/null 2>&1; then
        say "dockerd is running but not answering yet; waiting"
    else
        say "starting dockerd (log: $LOG)"
        # setsid + nohup: the engine outlives this script and its terminal.
        setsid nohup dockerd >"$LOG" 2>&1 </dev/null &
    fi
    for ((i = 0; i < WAIT_S * 2; i++)); do
        engine_answers && break
        sleep 0.5
    done
    engine_answers || die "dockerd did not answer within ${WAIT_S}s; see $LOG"
    say "engine answers (server $(docker version --format '{{.Server.Version}}'))"
fi

# 3. base image ----------------------------------------------------------------
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    say "image $IMAGE present"
    exit 0
fi
say "building image $IMAGE (offline, about 2 minutes)"
if [[ -x "$REPO/.venv/bin/python" ]]; then
    "$REPO/.venv/bin/python" -m selfcoder.cli sandbox build-image --name "$IMAGE"
elif command -v selfcoder >/dev/null 2>&1; then
    selfcoder sandbox build-image --name "$IMAGE"
else
    (cd "$REPO" && python3 -m selfcoder.cli sandbox build-image --name "$IMAGE")
fi
docker image inspect "$IMAGE" >/dev/null 2>&1 || die "image $IMAGE was not built"
say "image $IMAGE ready"
