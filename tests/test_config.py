"""Configuration: precedence of the sources, where each value came from, one-line errors."""

import subprocess
import sys
from pathlib import Path

import pytest

from selfcoder.core.config import load_settings
from selfcoder.core.errors import ConfigError


@pytest.fixture
def user_config(tmp_path, monkeypatch):
    path = tmp_path / "user.toml"
    monkeypatch.setenv("SELFCODER_CONFIG", str(path))
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults_when_nothing_is_configured(tmp_path, user_config):
    loaded = load_settings(tmp_path, env={"SELFCODER_CONFIG": str(user_config)})
    assert loaded.settings.sandbox.backend == "local"
    assert loaded.settings.local_model.threads == "auto"
    assert loaded.origins == {}


def test_precedence_user_pyproject_repo_file_env(tmp_path, user_config):
    """Precedence for what each layer may set; the repository's layers here only lower limits."""
    write(user_config, "[budget]\nmax_calls = 10\nmax_tokens = 1000\nmax_cost_usd = 0.5\n[agent]\nmax_steps = 7\n")
    write(tmp_path / "pyproject.toml", "[project]\nname='x'\n[tool.selfcoder.budget]\nmax_calls = 2\nmax_tokens = 22\n")
    write(tmp_path / "selfcoder.toml", "[budget]\nmax_calls = 3\n")
    env = {"SELFCODER_CONFIG": str(user_config), "SELFCODER_BUDGET__MAX_CALLS": "4", "UNRELATED": "1"}
    loaded = load_settings(tmp_path, env=env)
    s, o = loaded.settings, loaded.origins
    assert s.budget.max_calls == 4 and o["budget.max_calls"] == "environment"
    assert s.budget.max_tokens == 22 and o["budget.max_tokens"].endswith("pyproject.toml [tool.selfcoder]")
    assert s.budget.max_cost_usd == 0.5 and o["budget.max_cost_usd"] == str(user_config)
    assert s.agent.max_steps == 7
    assert loaded.refused == []
    del env["SELFCODER_BUDGET__MAX_CALLS"]
    loaded = load_settings(tmp_path, env=env)
    assert loaded.settings.budget.max_calls == 3
    assert loaded.origins["budget.max_calls"] == str(tmp_path / "selfcoder.toml")


def test_a_list_from_the_environment_is_json_and_a_bad_one_names_the_key(tmp_path):
    env = {"SELFCODER_CONFIG": str(tmp_path / "none.toml"), "SELFCODER_AGENT__ATTEMPT_TEMPERATURES": "[0.7, 1]"}
    loaded = load_settings(None, env=env)
    assert loaded.settings.agent.attempt_temperatures == [0.7, 1.0]
    assert loaded.origins["agent.attempt_temperatures"] == "environment"
    for bad in ("[0.7,", "0.7"):
        with pytest.raises(ConfigError, match="environment: agent.attempt_temperatures"):
            load_settings(None, env={**env, "SELFCODER_AGENT__ATTEMPT_TEMPERATURES": bad})


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[budget]\nmax_calls = 'many'\n", ["user.toml", "budget.max_calls", "integer"]),
        ("[budget]\nmax_calls = 0\n", ["budget.max_calls", "greater than 0"]),
        ("[sandbox]\nbackend = 'vm'\n", ["sandbox.backend", "'local'", "'docker'"]),
        ("[sandbox]\nbackendd = 'local'\n", ["unknown setting 'sandbox.backendd'", "backend"]),
        ("[sandboxes]\nx = 1\n", ["unknown section 'sandboxes'", "sandbox"]),
        ("[budget\n", ["user.toml", "not valid TOML"]),
    ],
)
def test_bad_values_give_one_line_naming_key_file_and_allowed(tmp_path, user_config, text, expected):
    """In the user's own (trusted) config a mistake is an error; in a repository's it is a warning
    (tests/test_config_trust.py)."""
    write(user_config, text)
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path, env={"SELFCODER_CONFIG": str(user_config)})
    message = str(err.value)
    assert "\n" not in message
    for part in expected:
        assert part in message


def test_bad_env_value_names_the_environment(tmp_path, user_config):
    env = {"SELFCODER_CONFIG": str(user_config), "SELFCODER_LOCAL_MODEL__THREADS": "0"}
    with pytest.raises(ConfigError, match=r"environment: local_model.threads = '0'"):
        load_settings(tmp_path, env=env)


def run_cli(*args, cwd, env_extra=None):
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "selfcoder.cli", *args], cwd=cwd, capture_output=True, text=True, env=env)


def test_config_show_lists_values_and_sources(tmp_path, user_config):
    write(tmp_path / "selfcoder.toml", "[agent]\nmax_steps = 9\n")
    proc = run_cli("config", "show", "--json", "--repo", str(tmp_path), cwd=tmp_path, env_extra={"SELFCODER_CONFIG": str(user_config)})
    assert proc.returncode == 0, proc.stderr
    import json

    data = json.loads(proc.stdout)
    assert data["agent.max_steps"] == {"value": 9, "source": str(tmp_path / "selfcoder.toml")}
    assert data["sandbox.backend"]["source"] == "default"


def test_config_error_on_cli_is_one_line_without_traceback(tmp_path, user_config):
    write(user_config, "[budget]\nmax_calls = -1\n")
    proc = run_cli("config", "show", "--repo", str(tmp_path), cwd=tmp_path, env_extra={"SELFCODER_CONFIG": str(user_config)})
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert "budget.max_calls" in proc.stderr


def test_version_and_help(tmp_path):
    from selfcoder import __version__

    assert run_cli("--version", cwd=tmp_path).stdout.strip() == f"selfcoder {__version__}"
    out = run_cli("--help", cwd=tmp_path).stdout
    assert "config" in out


def test_local_model_threads_is_a_number_or_auto(tmp_path, user_config):
    for value, ok in (("'auto'", True), ("2", True), ("0", False), ("'many'", False)):
        write(user_config, f"[local_model]\nthreads = {value}\n")
        if ok:
            load_settings(tmp_path, env={"SELFCODER_CONFIG": str(user_config)})
        else:
            with pytest.raises(ConfigError):
                load_settings(tmp_path, env={"SELFCODER_CONFIG": str(user_config)})


def test_a_trusted_layer_on_top_is_validated_and_named(tmp_path, user_config):
    """`LoadedSettings.apply`: a trusted layer (an editor's own options) sets anything and is
    recorded as each value's source; a mistake in it is one line naming the layer and the key."""
    from selfcoder.core.config import Layer

    loaded = load_settings(tmp_path, env={"SELFCODER_CONFIG": str(user_config)})
    loaded.apply(Layer("initializationOptions", {"model": {"name": "gpt-4o"}, "budget": {"max_calls": 90}}, True))
    assert (loaded.settings.model.name, loaded.settings.budget.max_calls) == ("gpt-4o", 90)
    assert loaded.origins["model.name"] == loaded.origins["budget.max_calls"] == "initializationOptions"
    for data, wanted in (({"modle": {}}, "initializationOptions: unknown section 'modle'"),
                         ({"model": {"nmae": "x"}}, "initializationOptions: unknown setting 'model.nmae'"),
                         ({"budget": {"max_calls": 0}}, "initializationOptions budget.max_calls 0: "),
                         ({"budget": 3}, "initializationOptions: 'budget' must be a table")):
        with pytest.raises(ConfigError) as e:
            loaded.apply(Layer("initializationOptions", data, True))
        assert str(e.value).startswith(wanted), str(e.value)


def test_an_untrusted_layer_on_top_is_screened_against_the_settings_so_far(tmp_path, user_config):
    """An untrusted layer (a folder's workspace settings) may only lower what the layers below
    left, here a limit the repository already lowered; the rest is refused, never raised."""
    from selfcoder.core.config import Layer

    write(user_config, "[budget]\nmax_calls = 60\n")
    write(tmp_path / "selfcoder.toml", "[budget]\nmax_calls = 20\n")
    loaded = load_settings(tmp_path, env={"SELFCODER_CONFIG": str(user_config)})
    hostile = {"model": {"api_base": "http://attacker.example"}, "budget": {"max_calls": 50, "max_tokens": 999},
               "agent": {"max_steps": "many"}, "nope": {}}
    loaded.apply(Layer("workspace", hostile, False))
    s = loaded.settings
    assert (s.model.api_base, s.budget.max_calls, s.budget.max_tokens, s.agent.max_steps) == (None, 20, 999, 30)
    assert loaded.origins["budget.max_tokens"] == "workspace" and loaded.origins["budget.max_calls"].endswith("selfcoder.toml")
    refused = {(r.source, r.key) for r in loaded.refused}
    assert refused == {("workspace", "model.api_base"), ("workspace", "budget.max_calls"),
                       ("workspace", "agent.max_steps"), ("workspace", "nope")}
