"""The sampling of one attempt: its temperature and seed, imposed by the host on every model call.

`solve --attempts 3` used to send the same requests at temperature 0 three times and got three
byte-identical patches; so each attempt n takes its temperature from `agent.attempt_temperatures`
(the first greedy by default, the last entry repeating) and a seed of its own, derived from the
solve's `series` (the base `agent.seed` when set, so a series can be replayed, else a random one).

The scaffold reads its attempt's sampling from task.json, but does not decide it: the run's
gateway sets `seed` in every call it forwards, and `temperature` to the attempt's own unless the
call asks for a higher one, which it gets up to `agent.max_temperature`: a scaffold may sample
more diversely when it is stuck (the seed's stall_restart policy restarts a conversation at a raised
temperature; held to the attempt's, a greedy attempt's restart repeated the replies it restarted
from), never below its attempt's temperature or above the host's ceiling (untrusted code never
chooses models or limits). `agent.max_temperature` 0 gives every call exactly its attempt's.
"""

from __future__ import annotations

import hashlib
import math
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
    ceiling: float = 0.0  # the highest temperature a call may ask for (agent.max_temperature)

    def enforce(self, params: dict[str, Any], asked: Any = None) -> dict[str, Any]:
        """`params` with this attempt's seed, and its temperature unless the caller `asked` for a
        higher one (then that, up to the ceiling); what is not a finite number was not asked."""
        params["temperature"], params["seed"] = self.temperature_for(asked), self.seed
        return params

    def temperature_for(self, asked: Any) -> float:
        if not isinstance(asked, (int, float)) or isinstance(asked, bool) or not math.isfinite(asked):
            return self.temperature
        return max(self.temperature, min(float(asked), self.ceiling))

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
    return Sampling(attempt=n, of=of, temperature=temperature, seed=attempt_seed(series, n), series=series,
                    ceiling=float(agent_settings.max_temperature))
