"""`import selfcoder` and `selfcoder --help` must not import litellm (~2 s); a model call does."""

from __future__ import annotations

import subprocess
import sys


def litellm_loaded_after(code: str) -> bool:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print('litellm' in sys.modules)"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1] == "True"


def test_import_selfcoder_cli_and_llm_does_not_import_litellm():
    assert not litellm_loaded_after("import selfcoder, selfcoder.cli, selfcoder.llm, selfcoder.llm.gateway, selfcoder.commands.model")


def test_help_does_not_import_litellm():
    code = (
        "from selfcoder.cli import app\n"
        "for args in (['--help'], ['model', '--help'], ['model', 'install', '--help']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit:\n"
        "        pass"
    )
    assert not litellm_loaded_after(code)


def test_resolving_auto_local_and_scripted_does_not_import_litellm(tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text("replies: [hi]")
    code = (
        "from selfcoder.llm.models import resolve\n"
        f"resolve('auto', env={{}}); resolve('local'); resolve('scripted/{script}')"
    )
    assert not litellm_loaded_after(code)


def test_a_model_call_does_import_it(tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text("replies: [hi]")
    code = (
        "from selfcoder.core.config import Settings\nfrom selfcoder.llm import Gateway\n"
        f"gw = Gateway(Settings.model_validate({{'model': {{'name': 'scripted/{script}'}}}}), 'r')\n"
        "assert gw.complete([{'role': 'user', 'content': 'x'}]).text == 'hi'"
    )
    assert litellm_loaded_after(code)
