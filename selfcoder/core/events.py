"""The typed events a run reports while it goes (`on_event`), each carrying its `run_id`.

Several runs may report to one callback (eval's workers, the language server's parallel runs),
so every event names its run. `to_json()` gives the flat dict written to logs and sent to
editors: `{"type": "phase", "run_id": ..., "phase": "agent"}`.

`AgentEvent` carries what the scaffold itself reported (its steps, its exit). That text comes
from untrusted code: display it escaped, never act on it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, ClassVar


@dataclass(frozen=True)
class RunEvent:
    run_id: str
    type: ClassVar[str] = "event"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True)
class AttemptStarted(RunEvent):
    n: int = 1
    of: int = 1
    temperature: float = 0.0  # the attempt's sampling, imposed by the host (llm/sampling.py)
    seed: int = 0
    type: ClassVar[str] = "attempt"


@dataclass(frozen=True)
class RunStarted(RunEvent):
    run_dir: str = ""
    type: ClassVar[str] = "run"


@dataclass(frozen=True)
class PhaseStarted(RunEvent):
    phase: str = ""  # "sandbox" | "agent" | "validate"
    type: ClassVar[str] = "phase"


@dataclass(frozen=True)
class AgentEvent(RunEvent):
    """One event the scaffold wrote to its events file: `kind` is its own "type" ("step", "exit", ...)."""

    kind: str = ""
    data: dict = field(default_factory=dict)
    type: ClassVar[str] = "agent"

    def to_json(self) -> dict[str, Any]:
        return {**self.data, "type": f"agent_{self.kind}", "run_id": self.run_id}


@dataclass(frozen=True)
class VerdictReady(RunEvent):
    status: str = ""
    message: str = ""
    type: ClassVar[str] = "verdict"


@dataclass(frozen=True)
class RunFinished(RunEvent):
    status: str = ""
    message: str = ""
    run_dir: str = ""
    type: ClassVar[str] = "done"


EventCallback = Callable[[RunEvent], None]
