"""bench/build_llama_server.sh refuses, in one line and before downloading or compiling anything,
to build llama-server with flags it cannot tell are selfcoder's wheel's: none, two candidates, or
an empty list. (The build itself takes minutes; bench/README.md says how to run it.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "build_llama_server.sh"


def build(home: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(home), "SELFCODER_HOME": str(home),
                               "PYTHON": sys.executable, **env})


def wheel_flags(home: Path, key: str, flags: list[str]) -> Path:
    path = home / "wheels" / f"llama-cpp-python-0.3.36-{key}" / "flags.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"flags": flags, "key": path.parent.name}))
    return path


def test_no_ambiguous_or_empty_wheel_flags_and_nothing_built(tmp_path):
    none = build(tmp_path)
    assert none.returncode == 1 and "found 0 (set FLAGS_JSON)" in none.stderr

    wheel_flags(tmp_path, "a", ["-DGGML_NATIVE=OFF"])
    wheel_flags(tmp_path, "b", ["-DGGML_NATIVE=OFF", "-DGGML_AVX512=ON"])
    two = build(tmp_path)
    assert two.returncode == 1 and "found 2 (set FLAGS_JSON)" in two.stderr

    empty = build(tmp_path, FLAGS_JSON=str(wheel_flags(tmp_path, "c", [])))
    assert empty.returncode == 1 and "lists no flags" in empty.stderr
    missing = build(tmp_path, FLAGS_JSON=str(tmp_path / "nope.json"))
    assert missing.returncode == 1 and "no such file" in missing.stderr
    for run in (none, two, empty, missing):
        assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1 and run.stdout == ""
    assert not (tmp_path / "llama-server-0.3.36").exists()  # nothing downloaded, nothing configured
