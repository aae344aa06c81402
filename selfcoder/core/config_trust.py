"""What a repository's own config may change, and why the rest is refused.

Trust: the user, their user config, their environment and their command line are trusted; a
repository's `selfcoder.toml` and `[tool.selfcoder]` are not — the user may have just cloned it.
So a repository layer may only

- LOWER a numeric limit (`LOWER_ONLY`) compared with the value the trusted layers give, and
- set an explicitly harmless per-project value (`REPO_MAY_SET`).

Everything else is refused by default (a setting added later is refused until someone decides it
is safe): the model, its endpoint and keys, the local model, the sandbox backend and image, the
runs dir, the agent scaffold, and any raised limit. A refusal is never an error: the value is
ignored and a `Refusal` is recorded, so the user can still solve a hostile repository with their
own settings, and `config show` / `solve` print one warning line per refused key.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

# Limits a repository may lower (or leave equal), never raise.
LOWER_ONLY = frozenset({
    "budget.max_tokens", "budget.max_cost_usd", "budget.max_calls",
    "sandbox.timeout_s", "sandbox.memory_mb", "sandbox.pids", "sandbox.cpu_s", "sandbox.cpus",
    "sandbox.file_size_mb", "sandbox.output_bytes", "sandbox.disk_mb", "sandbox.patch_mb", "sandbox.patch_files",
    "agent.max_steps", "agent.time_limit_s", "agent.attempts",
    "model.max_tokens", "model.timeout_s", "model.max_retries", "model.stall_timeout_s",
})  # fmt: skip

# Limits where 0 means "no limit" (all CPUs): 0 is the highest value, not the lowest.
ZERO_IS_UNLIMITED = frozenset({"sandbox.cpus", "sandbox.disk_mb"})

# Per-project values a repository may set to anything valid. Sampling temperature changes only
# how the user's own model answers within the user's own budget: it sends nothing anywhere and
# lifts no limit. (There is no test-command setting; a task's test command comes from the CLI.)
REPO_MAY_SET = frozenset({"model.temperature"})

MODELS = "repository config may not choose models, endpoints or keys"
# Why a key outside the two sets above is refused, by section or by exact key.
_REASONS = {
    "model": MODELS,
    "local_model": MODELS,
    "agent.node": "repository config may not choose the agent scaffold",
    "run": "repository config may not move the runs dir",
    "sandbox": "repository config may not choose the sandbox backend or image",
}
_DEFAULT_REASON = "repository config may not set this (only lower limits and model.temperature)"


class Refusal(BaseModel):
    """One value from a repository layer that was ignored, and why (`str()`: the warning line)."""

    source: str
    key: str | None = None  # None: the whole layer (e.g. not valid TOML)
    reason: str

    def __str__(self) -> str:
        what = f"ignored {self.key}" if self.key else "ignored"
        return f"{self.source}: {what}: {self.reason}"


def short(value: Any, limit: int = 60) -> str:
    """`repr(value)` cut to `limit` characters (a refused value is repository text: keep it short)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def refusal_reason(key: str) -> str | None:
    """Why repository config may not set `key` at all (None: it may, subject to `raises_limit`)."""
    if key in LOWER_ONLY or key in REPO_MAY_SET:
        return None
    section = key.partition(".")[0]
    return _REASONS.get(key) or _REASONS.get(section) or _DEFAULT_REASON


def raises_limit(key: str, value: Any, trusted: Any) -> str | None:
    """For a lower-only `key`: why `value` (already validated) is refused against the trusted value,
    or None when it is no higher."""
    if key not in LOWER_ONLY:
        return None
    if key in ZERO_IS_UNLIMITED:
        ok = trusted == 0 or (value != 0 and value <= trusted)
    else:
        ok = value <= trusted
    if ok:
        return None
    return f"repository config may only lower limits (asks {short(value)}, yours is {short(trusted)})"
