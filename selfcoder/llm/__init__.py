"""The LLM gateway: every model call of a run, from the host or from a sandboxed agent.

    from selfcoder.llm import Gateway, TrajectoryLog
    log = TrajectoryLog(run_dir / "trajectory.jsonl")
    with Gateway(settings, run_id, log) as gw, gw.serve(host_run_dir / "llm.sock"):
        ...                       # the agent calls POST /v1/chat/completions on the socket
    gw.status, gw.usage           # "ok" | "budget_exceeded" | "model_error"; tokens, cost, calls

Importing this package is cheap: litellm (~2 s) is imported on the first model call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from selfcoder.llm.budget import Budget
from selfcoder.llm.trajectory import TrajectoryLog, read_trajectory
from selfcoder.llm.usage import CallUsage, Usage

if TYPE_CHECKING:
    from selfcoder.llm.gateway import Completion, Gateway

__all__ = ["Budget", "CallUsage", "Completion", "Gateway", "TrajectoryLog", "Usage", "read_trajectory"]


def __getattr__(name: str) -> Any:
    if name in ("Gateway", "Completion"):
        from selfcoder.llm import gateway

        return getattr(gateway, name)
    raise AttributeError(name)
