#!/bin/bash
# llama-cpp-python's server with its default `--logits_all True` against `--logits_all False` (what
# selfcoder starts, selfcoder/llm/local_server.py): bench/local_server.py on each, one after the other,
# each server fresh, same model, threads and n_ctx. The default keeps every evaluated position's logits
# (a float row of the vocabulary per position) and runs the output layer on every prompt token.
#
#   bench/logits_all.sh [OUT_DIR]      # default runs/logits-all; run it on an otherwise idle machine
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/logits-all}
mkdir -p "$OUT"
PY=.venv/bin/python
GGUF=$($PY -c "from selfcoder.core.config import LocalModelSettings as S; from selfcoder.llm.local_model import model_path; print(model_path(S().models_dir))")
[ -f "$GGUF" ] || { echo "no local model at $GGUF: run selfcoder model install" >&2; exit 2; }
PORT=$($PY -c "from selfcoder.llm.local_server import free_port; print(free_port())")
KEY=$($PY -c "import secrets; print(secrets.token_hex(16))")
for LA in True False; do
    $PY -m llama_cpp.server --model "$GGUF" --model_alias local --n_ctx 8192 --n_threads 2 --host 127.0.0.1 \
        --port "$PORT" --api_key "$KEY" --interrupt_requests False --logits_all $LA > "$OUT/server-logits_all-$LA.log" 2>&1 &
    SERVER=$!
    trap 'kill $SERVER 2>/dev/null || true' EXIT
    for _ in $(seq 1 120); do
        curl -sf -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/v1/models" > /dev/null && break
        sleep 1
    done
    $PY bench/local_server.py --api-base "http://127.0.0.1:$PORT/v1" --api-key "$KEY" --model local \
        --server-version "llama-cpp-python logits_all=$LA" --json > "$OUT/logits_all-$LA.json"
    kill $SERVER; wait $SERVER 2>/dev/null || true
done
$PY - "$OUT" <<'PYEOF'
import json, sys
from pathlib import Path
rows = {la: json.loads((Path(sys.argv[1]) / f"logits_all-{la}.json").read_text()) for la in ("True", "False")}
def first(d, kind): return d["prefix"][kind]["steps"][0]
print(f"{'logits_all':<12}{'step 1 s (tokens)':>20}{'no reuse step 5 s':>19}{'reuse 5/1':>11}{'gen tok/s':>11}{'RSS MB before/after':>22}")
for la, d in rows.items():
    s1, n5 = first(d, "reuse"), d["prefix"]["no_reuse"]["steps"][-1]
    print(f"{la:<12}{s1['s']:>11.1f} ({s1['prompt_tokens']:>5}){n5['s']:>19.1f}{d['prefix']['reuse']['last_over_first']:>10.2f}x"
          f"{d['concurrency']['rows'][0]['tok_s']:>11.2f}{d['rss_mb']['before']:>13} / {d['rss_mb']['after']}")
t, f = rows["True"], rows["False"]
print(f"False / True: step 1 prompt time {first(f, 'reuse')['s'] / first(t, 'reuse')['s']:.2f}x, "
      f"no-reuse step 5 {f['prefix']['no_reuse']['steps'][-1]['s'] / t['prefix']['no_reuse']['steps'][-1]['s']:.2f}x, "
      f"resident MB after {f['rss_mb']['after'] / t['rss_mb']['after']:.2f}x")
PYEOF
