"""The sampling of one attempt: its temperature and seed, imposed by the host on every model call.

`solve --attempts 3` used to send the same requests at temperature 0 three times and got three
byte-identical patches; so each attempt n takes its temperature from `agent.attempt_temperatures`
(the first greedy by default, the last entry repeating) and a seed of its own, derived from the
solve's `series` (the base `agent.seed` when set, so a series can be replayed, else a random one).

The scaffold reads its attempt's sampling from task.json, but does not decide it: the run's
gateway overwrites `temperature` and `seed` in every call it forwards, whatever the sandboxed
code asked for (untrusted code never chooses models or limits).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass
from typing import Any

SEED_BITS = 31  # llama.cpp and OpenAI-compatible servers take a non-negative 32-bit int


@dataclass(frozen=True)
class Sampling:
    attempt: int
    of: int
    temperature: float
    seed: int
    series: str = ""

    def enforce(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` with this attempt's temperature and seed in place of anything asked for."""
        params["temperature"], params["seed"] = self.temperature, self.seed
        return params

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def new_series(base_seed: int | None = None) -> str:
    """The name the seeds of one solve derive from: the configured base seed, else a random one."""
    return str(base_seed) if base_seed is not None else uuid.uuid4().hex[:12]


def attempt_seed(series: str, n: int) -> int:
    digest = hashlib.sha256(f"{series}/{n}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & ((1 << SEED_BITS) - 1)


def attempt_sampling(agent_settings: Any, n: int, of: int, series: str) -> Sampling:
    """Attempt `n` of `of`: the schedule's n-th temperature (its last one past its end)."""
    temperatures = list(agent_settings.attempt_temperatures)
    temperature = float(temperatures[min(n, len(temperatures)) - 1])
    return Sampling(attempt=n, of=of, temperature=temperature, seed=attempt_seed(series, n), series=series)
