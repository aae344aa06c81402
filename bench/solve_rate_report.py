"""What bench/solve_rate.py prints: the machine and build, the per-task table, each system's solve rate
with its 95 % Wilson interval, mean time and tokens per task, and the exact McNemar test on the
paired outcomes (only the tasks exactly one system solved carry evidence about which is better).

Everything here works on plain result rows (one per task and system: `resolved`, `seconds`, `tokens`,
...), so the report of a finished, a resumed or a half-done run is computed the same way.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfcoder.evolve.stats import mcnemar_exact, wilson  # noqa: E402


def machine() -> dict:
    """CPU model, cores (all, and those this process may use), load averages, memory."""
    from selfcoder.llm.cpus import available_cpus

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        mem_gb = None
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": available_cpus(),
            "load": [round(x, 2) for x in os.getloadavg()], "memory_gib": mem_gb, "python": platform.python_version()}


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True).stdout.strip()


def build(settings, lease=None) -> dict:
    """selfcoder's commit, and for the local model: llama-cpp-python's version, the model file and its hash."""
    from importlib.metadata import PackageNotFoundError, version

    from selfcoder.llm.models import resolve

    info = {"selfcoder_commit": (_git("rev-parse", "--short", "HEAD") or "unknown")
            + ("+dirty" if _git("status", "--porcelain", "--untracked-files=no") else ""),
            "model": settings.model.name}
    if resolve(settings.model.name, settings.model.api_base).kind != "local":
        return info
    from selfcoder.llm.local_model import GGUF_SHA256, is_verified, model_path

    gguf = model_path(settings.local_model.models_dir)
    try:
        info["llama_cpp_python"] = version("llama_cpp_python")
    except PackageNotFoundError:
        info["llama_cpp_python"] = "not installed"
    info["model_file"] = str(gguf)
    info["model_sha256"] = GGUF_SHA256 if is_verified(gguf) else "unverified (selfcoder model install checks it)"
    if lease is not None:
        info["server"] = {"threads": lease.state.threads, "n_ctx": lease.state.n_ctx}
    return info


def system_summary(rows: list[dict]) -> dict:
    n = len(rows)
    solved = sum(1 for r in rows if r["resolved"])
    low, high = wilson(solved, n)
    return {"tasks": n, "solved": solved, "solve_rate": solved / n if n else 0.0, "wilson95": [low, high],
            "mean_s": statistics.mean(r["seconds"] for r in rows) if rows else 0.0,
            "mean_tokens": statistics.mean(r["tokens"] for r in rows) if rows else 0.0}


def paired(a: dict[str, dict], b: dict[str, dict]) -> dict:
    """The tasks both systems finished: how many each alone solved, and McNemar's exact p."""
    common = [t for t in a if t in b]
    only_a = sum(1 for t in common if a[t]["resolved"] and not b[t]["resolved"])
    only_b = sum(1 for t in common if b[t]["resolved"] and not a[t]["resolved"])
    both = sum(1 for t in common if a[t]["resolved"] and b[t]["resolved"])
    return {"tasks": len(common), "both": both, "only_first": only_a, "only_second": only_b,
            "neither": len(common) - both - only_a - only_b, "mcnemar_p": mcnemar_exact(only_a, only_b)}


def build_report(results: dict[str, dict[str, dict]], tasks: list[str], systems: list[str], *,
                 header: dict | None = None) -> dict:
    """`results[system][task]` = a result row; `tasks` in table order. Systems without a row for a task
    show it as not run; their summaries count only the tasks they finished."""
    report = dict(header or {})
    report["systems"] = {s: system_summary([results.get(s, {})[t] for t in tasks if t in results.get(s, {})])
                         for s in systems}
    report["tasks"] = [{"task": t, **{s: _cell(results.get(s, {}).get(t)) for s in systems}} for t in tasks]
    if len(systems) == 2:
        first, second = systems
        report["paired"] = {"first": first, "second": second,
                            **paired(results.get(first, {}), results.get(second, {}))}
    return report


def _cell(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {k: row.get(k) for k in ("resolved", "outcome", "seconds", "tokens", "steps", "attempts", "exit")}


def render_header(report: dict) -> str:
    """The machine, build and configuration lines."""
    lines = []
    if report.get("machine"):
        m = report["machine"]
        lines.append(f"machine: {m['cpu']} | {m['cores']} cores ({m['usable_cores']} usable) | "
                     f"load {' '.join(f'{x:.2f}' for x in m['load'])} | {m.get('memory_gib')} GiB | Python {m['python']}")
    if report.get("build"):
        lines.append("build: " + " | ".join(f"{k} {_flat(v)}" for k, v in report["build"].items()))
    if report.get("config"):
        lines.append("config: " + " | ".join(f"{k} {_flat(v)}" for k, v in report["config"].items()))
    return "\n".join(lines)


def render(report: dict) -> str:
    """The report as text: the header (when the report has one), the per-task table, one summary line
    per system, the paired test."""
    systems = list(report["systems"])
    lines = [render_header(report)] if any(report.get(k) for k in ("machine", "build", "config")) else []
    width = max([18, *(len(row["task"]) + 2 for row in report["tasks"])])
    head = f"{'task':<{width}}" + "".join(f"{s + ' solved':>18}{'s':>8}{'tokens':>9}" for s in systems)
    lines += (["", head] if lines else [head]) + ["-" * len(head)]
    for row in report["tasks"]:
        text = f"{row['task']:<{width}}"
        for s in systems:
            cell = row[s]
            if cell is None:
                text += f"{'(not run)':>18}{'':>8}{'':>9}"
            else:
                mark = "yes" if cell["resolved"] else f"no ({cell['outcome']})"
                text += f"{mark:>18}{cell['seconds']:>8.1f}{cell['tokens']:>9}"
        lines.append(text)
    lines.append("")
    for s, summary in report["systems"].items():
        low, high = summary["wilson95"]
        lines.append(f"{s}: solved {summary['solved']}/{summary['tasks']} = {100 * summary['solve_rate']:.0f} % "
                     f"(95 % Wilson {100 * low:.0f}-{100 * high:.0f} %) | mean {summary['mean_s']:.1f} s and "
                     f"{summary['mean_tokens']:.0f} tokens per task")
    if "paired" in report:
        p = report["paired"]
        lines.append(f"paired on {p['tasks']} tasks: both {p['both']}, only {p['first']} {p['only_first']}, "
                     f"only {p['second']} {p['only_second']}, neither {p['neither']} | "
                     f"McNemar exact p = {p['mcnemar_p']:.3g}")
    return "\n".join(lines)


def _flat(value) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)
