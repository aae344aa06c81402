"""The local model server under an agent's load: prompt-prefix reuse across a run's steps, several
sequences at once, and its resident memory (issue 17, item 4: "decide by measurement").

    .venv/bin/python bench/local_server.py [--steps 5] [--concurrent 4] [--gen-tokens 48] [--json]

Talks HTTP to the server selfcoder starts (`selfcoder model serve` or on demand: the same
lease the agent's gateway takes), with the agent's own message shape:

- **prefix reuse**: one conversation of `--steps` steps, as the agent's loop sends it (a system
  prompt, a task message of about 1,500 tokens, then per step the model's reply and a tool
  observation). Each step asks for one token, so its time is the prompt processing. The baseline,
  in the same run, is the same conversation with a fresh nonce at the top of every request, so no
  prefix can be reused. Target: step N costs <= 1.3x step 1 with reuse.
- **concurrency**: aggregate generated tokens/s of `--concurrent` requests sent at once against
  one request alone. Target: >= 2x at 4 sequences.
- **memory**: the llama.cpp process's resident set before and after.

Run it on an otherwise idle machine: every number here is wall-clock time on shared cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

TASK = ("Fix the bug described below in this repository. The failing test and the code follow.\n\n"
        + "\n".join(f"def helper_{i}(values, scale={i}):\n    \"\"\"Scale and sum part {i} of the input.\"\"\"\n"
                    f"    return sum(v * scale for v in values[{i}:])\n" for i in range(40)))
REPLY = "I will look at helper_3 first.\n```bash\ngrep -n 'def helper_3' module.py\n```"
OBSERVATION = "$ grep -n 'def helper_3' module.py\n(exit code 0)\n" + "\n".join(
    f"module.py:{10 + i}: def helper_{i}(values, scale={i}):" for i in range(25))


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        return None
    return None


class Server:
    def __init__(self, state):
        import httpx

        self.url = state.api_base + "/chat/completions"
        self.client = httpx.Client(timeout=900, headers={"Authorization": f"Bearer {state.api_key}"})

    def chat(self, messages: list[dict], max_tokens: int) -> tuple[float, dict]:
        """(seconds, usage) of one request at temperature 0."""
        from selfcoder.llm.models import LOCAL_ALIAS

        t0 = time.perf_counter()
        r = self.client.post(self.url, json={"model": LOCAL_ALIAS, "messages": messages, "max_tokens": max_tokens,
                                             "temperature": 0.0, "seed": 1})
        r.raise_for_status()
        return time.perf_counter() - t0, r.json().get("usage") or {}


def conversation(steps: int, nonce: bool) -> list[list[dict]]:
    """The request of each step: the history so far, as the agent's loop sends it."""
    history = [{"role": "system", "content": "You are a careful software engineer."},
               {"role": "user", "content": TASK}]
    requests = []
    for n in range(1, steps + 1):
        msgs = [dict(m) for m in history]
        if nonce:
            msgs[0]["content"] = f"[request {uuid.uuid4().hex}] " + msgs[0]["content"]
        requests.append(msgs)
        history += [{"role": "assistant", "content": REPLY.replace("helper_3", f"helper_{n}")},
                    {"role": "user", "content": OBSERVATION.replace("helper_3", f"helper_{n}")}]
    return requests


def prefix_reuse(server: Server, steps: int) -> dict:
    out = {}
    for label, nonce in (("reuse", False), ("no_reuse", True)):
        server.chat([{"role": "user", "content": f"warm {uuid.uuid4().hex}"}], 1)  # another prefix in the cache
        rows = []
        for n, msgs in enumerate(conversation(steps, nonce), 1):
            seconds, usage = server.chat(msgs, 1)
            rows.append({"step": n, "s": round(seconds, 2), "prompt_tokens": usage.get("prompt_tokens")})
        out[label] = {"steps": rows, "last_over_first": round(rows[-1]["s"] / rows[0]["s"], 2)}
    return out


def concurrency(server: Server, count: int, gen_tokens: int) -> dict:
    def one(i: int, sink: list) -> None:
        msgs = [{"role": "user", "content": f"Write {gen_tokens * 2} numbered lines, each a different Python "
                                            f"one-liner about topic {i}. No introduction."}]
        seconds, usage = server.chat(msgs, gen_tokens)
        sink.append(usage.get("completion_tokens") or 0)

    rows = {}
    for n in (1, count):
        sink: list[int] = []
        threads = [threading.Thread(target=one, args=(i, sink)) for i in range(n)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        rows[n] = {"sequences": n, "tokens": sum(sink), "s": round(wall, 2), "tok_s": round(sum(sink) / wall, 2)}
    return {"rows": list(rows.values()), "ratio": round(rows[count]["tok_s"] / rows[1]["tok_s"], 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5, help="steps of the conversation (default 5)")
    ap.add_argument("--concurrent", type=int, default=4, help="sequences sent at once (default 4)")
    ap.add_argument("--gen-tokens", type=int, default=48, help="tokens each concurrent request generates (default 48)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args(argv)
    from local_solve import warm_local_model
    from solve_rate_report import build, machine

    from selfcoder.core.config import load_settings

    settings = load_settings(None).settings
    lease, warm_s = warm_local_model(settings)
    if lease is None:
        print("error: the model in your settings is not the local one; this measures the local server", file=sys.stderr)
        return 2
    try:
        server = Server(lease.state)
        rss_before = rss_mb(lease.state.server_pid)
        report = {"machine": machine(), "build": build(settings, lease), "server_ready_s": round(warm_s, 1),
                  "prefix": prefix_reuse(server, args.steps),
                  "concurrency": concurrency(server, args.concurrent, args.gen_tokens),
                  "rss_mb": {"before": rss_before, "after": rss_mb(lease.state.server_pid)}}
    finally:
        lease.release()
    print(json.dumps(report, indent=2) if args.json else render(report, args))
    return 0


def render(r: dict, args) -> str:
    lines = ["machine: " + " | ".join(f"{k} {v}" for k, v in r["machine"].items()),
             "build: " + " | ".join(f"{k} {v}" for k, v in r["build"].items()), "",
             f"prefix reuse, {args.steps} steps (one token asked per step: the time is prompt processing)",
             f"{'step':>4} {'prompt tok':>10} {'reuse s':>8} {'no reuse s':>11}"]
    for a, b in zip(r["prefix"]["reuse"]["steps"], r["prefix"]["no_reuse"]["steps"]):
        lines.append(f"{a['step']:>4} {a['prompt_tokens'] or '?':>10} {a['s']:>8.2f} {b['s']:>11.2f}")
    lines.append(f"step {args.steps} / step 1: reuse {r['prefix']['reuse']['last_over_first']}x, "
                 f"no reuse {r['prefix']['no_reuse']['last_over_first']}x (target <= 1.3x with reuse)")
    lines += ["", f"concurrency ({args.gen_tokens} tokens per request)"]
    for row in r["concurrency"]["rows"]:
        lines.append(f"{row['sequences']:>2} at once: {row['tokens']:>4} tokens in {row['s']:>7.2f} s = "
                     f"{row['tok_s']:>6.2f} tok/s")
    lines.append(f"aggregate {args.concurrent} at once / 1: {r['concurrency']['ratio']}x (target >= 2x)")
    lines.append(f"server resident memory: {r['rss_mb']['before']} MB before, {r['rss_mb']['after']} MB after")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
