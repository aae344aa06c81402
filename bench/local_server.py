"""The local model server under an agent's load: prompt-prefix reuse across a run's steps, several
sequences at once, and its resident memory (issue 17, item 4: "decide by measurement").

    .venv/bin/python bench/local_server.py [--steps 5] [--concurrent 4] [--gen-tokens 48] [--json]
    .venv/bin/python bench/local_server.py --api-base http://127.0.0.1:PORT/v1 --api-key KEY \
        [--model NAME] [--server-version TEXT]       # any OpenAI-compatible server you started

Talks HTTP to the server selfcoder starts (`selfcoder model serve` or on demand: the same
lease the agent's gateway takes), or with `--api-base` to a server started by hand (llama.cpp's own
`llama-server`, built by bench/build_llama_server.sh; its resident memory is read from the process
listening on that port), with the agent's own message shape:

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
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

TASK = ("Fix the bug described below in this repository. The failing test and the code follow.\n\n"
        + "\n".join(f"def helper_{i}(values, scale={i}):\n    \"\"\"Scale and sum part {i} of the input.\"\"\"\n"
                    f"    return sum(v * scale for v in values[{i}:])\n" for i in range(40)))
REPLY = "I will look at helper_3 first.\n```bash\ngrep -n 'def helper_3' module.py\n```"
OBSERVATION = "$ grep -n 'def helper_3' module.py\n(exit code 0)\n" + "\n".join(
    f"module.py:{10 + i}: def helper_{i}(values, scale={i}):" for i in range(25))


def rss_mb(pid: int) -> float | None:
    import psutil

    try:
        return round(psutil.Process(pid).memory_info().rss / (1 << 20))
    except psutil.Error:
        return None


def listening_pid(api_base: str) -> int | None:
    """The process listening on the API base's port (None when it is not ours to see)."""
    import psutil

    port = urlsplit(api_base).port
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
                return conn.pid
    except psutil.Error:
        return None
    return None


class Server:
    def __init__(self, api_base: str, api_key: str, model: str):
        import httpx

        self.url, self.model = api_base.rstrip("/") + "/chat/completions", model
        self.client = httpx.Client(timeout=900, headers={"Authorization": f"Bearer {api_key}"} if api_key else {})

    def chat(self, messages: list[dict], max_tokens: int) -> tuple[float, dict]:
        """(seconds, usage) of one request at temperature 0; usage gains `processed`, the prompt tokens
        the server says it evaluated (llama-server's timings.prompt_n), where it says so."""
        t0 = time.perf_counter()
        r = self.client.post(self.url, json={"model": self.model, "messages": messages, "max_tokens": max_tokens,
                                             "temperature": 0.0, "seed": 1})
        r.raise_for_status()
        body = r.json()
        usage = dict(body.get("usage") or {})
        if isinstance(body.get("timings"), dict) and "prompt_n" in body["timings"]:
            usage["processed"] = body["timings"]["prompt_n"]
        return time.perf_counter() - t0, usage


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
        rows, times = [], []
        for n, msgs in enumerate(conversation(steps, nonce), 1):
            seconds, usage = server.chat(msgs, 1)
            times.append(seconds)
            rows.append({"step": n, "s": round(seconds, 3), "prompt_tokens": usage.get("prompt_tokens"),
                         "processed": usage.get("processed")})
        out[label] = {"steps": rows, "last_over_first": round(times[-1] / times[0], 2)}
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
    ap.add_argument("--api-base", help="measure this OpenAI-compatible server (e.g. http://127.0.0.1:8080/v1) "
                                       "instead of selfcoder's local one")
    ap.add_argument("--api-key", default="", help="its API key (sent as a Bearer token)")
    ap.add_argument("--model", help="the request's model field (default: selfcoder's local alias)")
    ap.add_argument("--server-version", default="", help="recorded as the build of the server measured "
                                                         "(e.g. the output of `llama-server --version`)")
    args = ap.parse_args(argv)
    if args.api_base and not urlsplit(args.api_base).port:
        return fail(f"--api-base needs a URL with a port, like http://127.0.0.1:8080/v1 (got {args.api_base!r})")
    import httpx

    try:
        report = external(args) if args.api_base else selfcoders(args)
    except httpx.HTTPStatusError as e:
        hint = " (check --api-key)" if e.response.status_code in (401, 403) else ""
        return fail(f"{e.response.status_code} {e.response.reason_phrase} from {e.request.url}{hint}")
    except httpx.HTTPError as e:
        return fail(f"{e.request.url}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'no answer'}")
    if report is None:
        return fail("the model in your settings is not the local one; this measures the local server")
    print(json.dumps(report, indent=2) if args.json else render(report, args))
    return 0


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def model_field(args) -> str:
    from selfcoder.llm.models import LOCAL_ALIAS

    return args.model or LOCAL_ALIAS


def external(args) -> dict:
    """A server started by hand: no lease; its build is what you say it is."""
    build = {"api_base": args.api_base, "model": model_field(args), "server_version": args.server_version or "not given"}
    return measure(Server(args.api_base, args.api_key, model_field(args)), listening_pid(args.api_base), build, 0.0, args)


def selfcoders(args) -> dict | None:
    """selfcoder's own server, started or joined through the lease the agent's gateway takes."""
    from local_solve import warm_local_model
    from solve_rate_report import build as selfcoder_build

    from selfcoder.core.config import load_settings

    settings = load_settings(None).settings
    lease, warm_s = warm_local_model(settings)
    if lease is None:
        return None
    try:
        build = selfcoder_build(settings, lease) | ({"server_version": args.server_version} if args.server_version else {})
        server = Server(lease.state.api_base, lease.state.api_key, model_field(args))
        return measure(server, lease.state.server_pid, build, warm_s, args)
    finally:
        lease.release()


def measure(server: Server, pid: int | None, build: dict, warm_s: float, args) -> dict:
    from solve_rate_report import machine

    rss_before = rss_mb(pid) if pid else None
    return {"machine": machine(), "build": build, "server_pid": pid, "server_ready_s": round(warm_s, 1),
            "prefix": prefix_reuse(server, args.steps),
            "concurrency": concurrency(server, args.concurrent, args.gen_tokens),
            "rss_mb": {"before": rss_before, "after": rss_mb(pid) if pid else None}}


def render(r: dict, args) -> str:
    lines = ["machine: " + " | ".join(f"{k} {v}" for k, v in r["machine"].items()),
             "build: " + " | ".join(f"{k} {v}" for k, v in r["build"].items()), "",
             f"prefix reuse, {args.steps} steps (one token asked per step: the time is prompt processing)",
             f"{'step':>4} {'prompt tok':>10} {'evaluated':>9} {'reuse s':>8} {'no reuse s':>11}"]
    for a, b in zip(r["prefix"]["reuse"]["steps"], r["prefix"]["no_reuse"]["steps"]):
        evaluated = "?" if a.get("processed") is None else a["processed"]  # the server's own count, where it gives one
        lines.append(f"{a['step']:>4} {a['prompt_tokens'] or '?':>10} {evaluated:>9} {a['s']:>8.2f} {b['s']:>11.2f}")
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
