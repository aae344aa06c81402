"""How many CPUs this process may use: what `threads = 0` / `"auto"` mean for the local model."""

from __future__ import annotations

import math
import os
from pathlib import Path

from selfcoder.core.errors import ModelError


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask), cut to its cgroup's cpu.max quota."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:
        rel = next(line.split(":", 2)[2].strip() for line in Path("/proc/self/cgroup").read_text().splitlines()
                   if line.startswith("0::"))  # fmt: skip
        quota, period = (Path("/sys/fs/cgroup") / rel.lstrip("/") / "cpu.max").read_text().split()[:2]
        if quota != "max":
            n = min(n, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError, StopIteration, IndexError):
        pass
    return max(1, n)


def resolve_threads(threads: int | str | None) -> int:
    """`threads` as a number: 0, None or "auto" mean every CPU this process may use."""
    if threads in (None, 0, "0", "auto"):
        return available_cpus()
    try:
        n = int(threads)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ModelError(f"local_model.threads = {threads!r}: must be a positive number or 'auto'") from None
    if n < 0:
        raise ModelError(f"local_model.threads = {threads!r}: must be a positive number or 'auto'")
    return n or available_cpus()
