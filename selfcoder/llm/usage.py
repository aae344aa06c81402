"""Token, cost and call counters for one run, and the run's budget.

The gateway reserves a call (counts it) before sending it, so `max_calls` is exact even
when the socket endpoint serves concurrent requests; tokens and cost are known only after
a reply, so a reply that crosses those limits is kept and the *next* call is refused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from selfcoder.errors import BudgetExceeded, ConfigError


@dataclass
class CallUsage:
    """What one model call used."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = True  # False: litellm has no price for this model, cost counted as 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict:
        return {**asdict(self), "total_tokens": self.total_tokens}

    to_json = to_dict


@dataclass
class Usage:
    """Running totals of one run."""

    calls: int = 0  # model calls started (a call with retries counts once)
    failed_calls: int = 0  # calls that ended in an error after their retries
    retries: int = 0  # extra attempts after rate limits, timeouts, server errors
    unpriced_calls: int = 0  # successful calls whose cost litellm could not price
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, call: CallUsage) -> None:
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens
        self.cost_usd += call.cost_usd
        if not call.priced:
            self.unpriced_calls += 1

    def to_dict(self) -> dict:
        d = asdict(self)
        d["cost_usd"] = round(self.cost_usd, 8)
        d["total_tokens"] = self.total_tokens
        return d

    to_json = to_dict  # the runner's name for it (result.json "usage")


@dataclass(frozen=True)
class Budget:
    """Per-run limits. Every limit must be positive: a zero budget is a configuration mistake."""

    max_tokens: int
    max_cost_usd: float
    max_calls: int

    def __post_init__(self) -> None:
        for name in ("max_tokens", "max_cost_usd", "max_calls"):
            value = getattr(self, name)
            if not value or value <= 0:
                raise ConfigError(f"budget.{name} = {value!r}: must be greater than 0")

    @classmethod
    def from_settings(cls, s) -> "Budget":  # s: selfcoder.config.BudgetSettings
        return cls(max_tokens=s.max_tokens, max_cost_usd=s.max_cost_usd, max_calls=s.max_calls)

    def exceeded(self, usage: Usage) -> str | None:
        """Why no further call may start, or None."""
        if usage.calls >= self.max_calls:
            return f"call budget used: {usage.calls} of {self.max_calls} calls"
        if usage.total_tokens >= self.max_tokens:
            return f"token budget used: {usage.total_tokens} of {self.max_tokens} tokens"
        if usage.cost_usd >= self.max_cost_usd:
            return f"cost budget used: ${usage.cost_usd:.4f} of ${self.max_cost_usd:.4f}"
        return None

    def check(self, usage: Usage) -> None:
        """Raise `BudgetExceeded` (one line) when no further call may start."""
        reason = self.exceeded(usage)
        if reason:
            raise BudgetExceeded(f"budget exceeded: {reason}")

    def to_dict(self) -> dict:
        return asdict(self)

    to_json = to_dict
