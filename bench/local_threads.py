"""Tokens per second of the local model at 1, 2 and `auto` threads, prompt and generation, measured
in one run on this machine (issue 7, item 3: the thread count default).

    .venv/bin/python bench/local_threads.py [--prompt-tokens 1000] [--gen-tokens 64]

Loads the installed GGUF with llama-cpp-python directly (no server, no HTTP) so that only the
thread count differs between rows. Prints one row per setting and the ratio to 1 thread."""

from __future__ import annotations

import argparse
import os
import time

from selfcoder.core.config import LocalModelSettings
from selfcoder.llm.local_model import model_path


def measure(gguf: str, threads: int, prompt_tokens: int, gen_tokens: int) -> tuple[float, float]:
    from llama_cpp import Llama

    llm = Llama(model_path=gguf, n_ctx=prompt_tokens + gen_tokens + 64, n_threads=threads, n_threads_batch=threads,
                verbose=False)
    words = " ".join(f"def f{i}(x): return x + {i}" for i in range(prompt_tokens))
    tokens = llm.tokenize(words.encode())[:prompt_tokens]
    t0 = time.perf_counter()
    llm.eval(tokens)
    prompt_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    n = 0
    for _ in llm.generate([], temp=0.0, reset=False):
        n += 1
        if n >= gen_tokens:
            break
    gen_s = time.perf_counter() - t0
    return len(tokens) / prompt_s, n / gen_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompt-tokens", type=int, default=1000)
    ap.add_argument("--gen-tokens", type=int, default=64)
    args = ap.parse_args()
    gguf = str(model_path(LocalModelSettings().models_dir))
    auto = len(os.sched_getaffinity(0))
    rows = []
    for label, threads in (("1", 1), ("2", 2), (f"auto ({auto})", auto)):
        prompt, gen = measure(gguf, threads, args.prompt_tokens, args.gen_tokens)
        rows.append((label, prompt, gen))
    base_p, base_g = rows[0][1], rows[0][2]
    print(f"{'threads':<10} {'prompt tok/s':>13} {'gen tok/s':>10} {'prompt ×':>9} {'gen ×':>6}")
    for label, prompt, gen in rows:
        print(f"{label:<10} {prompt:>13.1f} {gen:>10.1f} {prompt / base_p:>9.2f} {gen / base_g:>6.2f}")


if __name__ == "__main__":
    main()
