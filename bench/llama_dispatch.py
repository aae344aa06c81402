"""The portable llama.cpp build (what `selfcoder model install` ships) against ggml's runtime CPU
dispatch (`GGML_BACKEND_DL` + `GGML_CPU_ALL_VARIANTS`), on this machine, in one run (issue 7, item 1).

    # once (~15 min on 2 cores): a dispatch build in a venv of its own
    python3 -m venv /tmp/dl-venv
    CMAKE_ARGS="-DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DGGML_NATIVE=OFF" \\
        /tmp/dl-venv/bin/pip install --no-cache-dir --no-binary llama-cpp-python llama-cpp-python==0.3.36
    .venv/bin/python bench/llama_dispatch.py --dispatch-venv /tmp/dl-venv

Prints two things:
1. which CPU variant ggml's own dispatcher picks here (`ggml_backend_load_all`) and whether a
   completion with it survives (a child process: a SIGILL is reported, not suffered);
2. prompt and generation tokens/s of the shipped build (what `selfcoder model install` made here)
   and of the dispatch build's variants named by --variants (default: haswell = AVX2, icelake =
   AVX-512 + VBMI + VNNI; each loaded explicitly), same GGUF, same threads, and the ratios.

llama-cpp-python 0.3.36 neither installs the variants where ggml looks for them (they land in
`site-packages/bin/`) nor calls `ggml_backend_load_all()`, so this script does both by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from selfcoder.core.config import LocalModelSettings
from selfcoder.llm.local_model import model_path

CHILD = r'''
import ctypes, json, os, sys, time
mode, gguf, threads, prompt_n, gen_n, variants = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
import llama_cpp
from llama_cpp import Llama
lib = llama_cpp.llama_cpp._lib
if mode == "auto":
    os.chdir(variants)           # ggml_backend_load_all looks in the current directory
    lib.ggml_backend_load_all()
elif mode != "portable":
    lib.ggml_backend_load.argtypes = [ctypes.c_char_p]
    lib.ggml_backend_load.restype = ctypes.c_void_p
    if not lib.ggml_backend_load(os.path.join(variants, f"libggml-cpu-{mode}.so").encode()):
        sys.exit(f"cannot load the {mode} variant")
llm = Llama(model_path=gguf, n_ctx=prompt_n + gen_n + 64, n_threads=threads, n_threads_batch=threads, verbose=False)
words = " ".join(f"def f{i}(x): return x + {i}" for i in range(prompt_n))
tokens = llm.tokenize(words.encode())[:prompt_n]
t0 = time.perf_counter(); llm.eval(tokens); prompt_s = time.perf_counter() - t0
t0 = time.perf_counter(); n = 0
for _ in llm.generate([], temp=0.0, reset=False):
    n += 1
    if n >= gen_n:
        break
print(json.dumps({"prompt": len(tokens) / prompt_s, "gen": n / (time.perf_counter() - t0)}))
'''


def run(python: str, mode: str, gguf: str, threads: int, prompt_n: int, gen_n: int, variants: str) -> dict:
    proc = subprocess.run([python, "-c", CHILD, mode, gguf, str(threads), str(prompt_n), str(gen_n), variants],
                          capture_output=True, text=True, timeout=900)
    picked = [line.rsplit("/", 1)[-1] for line in proc.stderr.splitlines() if "loaded CPU backend from" in line]
    if proc.returncode < 0:
        return {"error": f"killed by {signal.Signals(-proc.returncode).name}", "picked": picked}
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1], "picked": picked}
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "picked": picked}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dispatch-venv", required=True, type=Path, help="a venv with the GGML_BACKEND_DL build")
    ap.add_argument("--prompt-tokens", type=int, default=1000)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--variants", default="haswell,icelake", help="dispatch variants to time (libggml-cpu-NAME.so)")
    args = ap.parse_args()
    gguf = str(model_path(LocalModelSettings().models_dir))
    python = str(args.dispatch_venv / "bin" / "python")
    found = sorted(args.dispatch_venv.glob("lib/python3*/site-packages/bin/libggml-cpu-*.so"))
    if not found:
        sys.exit(f"{args.dispatch_venv}: no libggml-cpu-*.so variants (not a GGML_BACKEND_DL build?)")
    variants = str(found[0].parent)
    common = (gguf, args.threads, args.prompt_tokens, args.gen_tokens, variants)
    auto = run(python, "auto", *common)
    print(f"ggml's dispatcher picks: {', '.join(auto['picked']) or 'nothing'} -> "
          f"{auto.get('error') or 'runs: %.1f prompt / %.1f gen tok/s' % (auto['prompt'], auto['gen'])}")
    shipped = run(sys.executable, "portable", *common)
    rows = [("shipped build", shipped)] + [(f"dispatch, {v}", run(python, v, *common)) for v in args.variants.split(",")]
    for name, row in rows:
        line = row.get("error") or f"{row['prompt']:8.1f} prompt tok/s {row['gen']:6.1f} gen tok/s"
        if "error" not in row and "error" not in shipped:
            line += f"   ({row['prompt'] / shipped['prompt']:.2f}x / {row['gen'] / shipped['gen']:.2f}x the shipped build)"
        print(f"{name:<20} {line}")
    print(f"({args.threads} threads, {args.prompt_tokens}-token prompt, {args.gen_tokens} generated tokens)")

if __name__ == "__main__":
    main()
