"""`selfcoder` run as a user runs it (a subprocess with this test's environment)."""

from __future__ import annotations

import os
import subprocess
import sys


def selfcoder(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "selfcoder", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=timeout)
