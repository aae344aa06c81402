"""`selfcoder demo`, the README's main job: the bundled repository solved and validated."""

from __future__ import annotations

import os
import subprocess
import sys

from e2e_replies import search_replace

DEMO_FIX = search_replace("stats.py", "    return sum(values) / (len(values) - 1)", "    return sum(values) / len(values)")


def demo(*args, env_extra):
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-m", "selfcoder", "demo", *args], env=env,
                          capture_output=True, text=True, timeout=900)


def test_demo_prints_the_validated_diff(script, tmp_path, sandbox_root):
    proc = demo("--model", script(DEMO_FIX), "--dir", str(tmp_path / "demo"),
                env_extra={"SELFCODER_CONFIG": str(tmp_path / "none.toml"), "SELFCODER_SANDBOX_ROOT": str(sandbox_root)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "+    return sum(values) / len(values)" in proc.stdout
    assert "status resolved" in proc.stdout
    assert "(len(values) - 1)" in (tmp_path / "demo" / "stats.py").read_text()  # the copy is not modified
