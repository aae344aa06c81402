"""Settings: defaults < user config < `[tool.selfcoder]` in pyproject < `selfcoder.toml` < env.

Every layer is a nested mapping with the same shape as `Settings`. We merge them
key by key, remember which layer each value came from (for `selfcoder config show`),
then validate the result once with pydantic. A bad value becomes one `ConfigError`
line naming the key, the file it came from and what is allowed.

Environment variables use `SELFCODER_<SECTION>__<KEY>`, e.g.
`SELFCODER_BUDGET__MAX_CALLS=20` or `SELFCODER_MODEL__NAME=gpt-4o-mini`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from selfcoder.errors import ConfigError

ENV_PREFIX = "SELFCODER_"
DEFAULT_SOURCE = "default"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelSettings(_Section):
    """Which model the agent talks to, through the gateway."""

    name: str = Field("auto", description="litellm model name; 'auto' = a hosted default if an API key is set, else 'local'")
    api_base: str | None = Field(None, description="endpoint override (OpenAI-compatible servers)")
    timeout_s: float = Field(300.0, gt=0, description="timeout of one model call")
    max_retries: int = Field(3, ge=0, le=10, description="retries on rate limits, timeouts, server errors")
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int = Field(2048, gt=0, description="completion tokens per call")


class BudgetSettings(_Section):
    """Per-run limits; a run that reaches one stops with status `budget_exceeded`."""

    max_tokens: int = Field(400_000, gt=0)
    max_cost_usd: float = Field(2.0, gt=0)
    max_calls: int = Field(60, gt=0)


class LocalModelSettings(_Section):
    """The offline model served by llama-cpp-python."""

    threads: int = Field(1, ge=1, le=256, description="llama.cpp threads (1 is fastest on a busy 2-core machine)")
    n_ctx: int = Field(8192, ge=512)
    port: int = Field(0, ge=0, le=65535, description="0 = pick a free port")
    models_dir: Path = Field(Path("~/.cache/selfcoder/models"), description="where the GGUF file is assembled")
    idle_stop_s: float = Field(300.0, ge=0, description="a server started on demand stops after this idle time")


class SandboxSettings(_Section):
    """Where untrusted code runs, and its limits."""

    backend: Literal["local", "docker"] = "local"
    image: str = Field("selfcoder-base:bookworm", description="docker image (build offline: selfcoder sandbox build-image)")
    timeout_s: float = Field(300.0, gt=0, description="wall-clock limit of one command")
    memory_mb: int = Field(4096, ge=64)
    pids: int = Field(512, ge=16, description="processes/threads a sandbox may have")
    cpu_s: int = Field(1800, ge=1, description="CPU seconds one command may use")
    cpus: float = Field(0.0, ge=0, description="CPU cores a docker sandbox may use at once (0 = all)")
    file_size_mb: int = Field(1024, ge=1, description="largest file a command may write")
    output_bytes: int = Field(100_000, ge=1000, description="output kept per command (head and tail)")


class AgentSettings(_Section):
    """The scaffold that runs inside the sandbox."""

    node: str = Field("seed", description="archive node id or a path to a scaffold directory")
    max_steps: int = Field(30, ge=1)
    time_limit_s: float = Field(1800.0, gt=0)


class RunSettings(_Section):
    runs_dir: Path = Field(Path(".selfcoder/runs"), description="relative to the repository")


class Settings(_Section):
    model: ModelSettings = ModelSettings()
    budget: BudgetSettings = BudgetSettings()
    local_model: LocalModelSettings = LocalModelSettings()
    sandbox: SandboxSettings = SandboxSettings()
    agent: AgentSettings = AgentSettings()
    run: RunSettings = RunSettings()


class LoadedSettings(BaseModel):
    """The validated settings plus where each `section.key` value came from."""

    settings: Settings
    origins: dict[str, str]


def user_config_path(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if "SELFCODER_CONFIG" in env:
        return Path(env["SELFCODER_CONFIG"]).expanduser()
    base = Path(env.get("XDG_CONFIG_HOME", "~/.config")).expanduser()
    return base / "selfcoder" / "config.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None


def _layers(repo: Path | None, env: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """The config layers in increasing precedence, each with a label for its source."""
    layers: list[tuple[str, dict[str, Any]]] = []
    user = user_config_path(env)
    if user.is_file():
        layers.append((str(user), _read_toml(user)))
    if repo is not None:
        pyproject = repo / "pyproject.toml"
        if pyproject.is_file():
            data = _read_toml(pyproject).get("tool", {}).get("selfcoder")
            if data is not None:
                layers.append((f"{pyproject} [tool.selfcoder]", data))
        own = repo / "selfcoder.toml"
        if own.is_file():
            layers.append((str(own), _read_toml(own)))
    env_layer: dict[str, Any] = {}
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and "__" in key:
            section, _, name = key[len(ENV_PREFIX):].lower().partition("__")
            env_layer.setdefault(section, {})[name] = value
    if env_layer:
        layers.append(("environment", env_layer))
    return layers


def _merge(layers: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], dict[str, str]]:
    merged: dict[str, dict[str, Any]] = {}
    origins: dict[str, str] = {}
    for source, data in layers:
        for section, values in data.items():
            if section not in Settings.model_fields:
                allowed = ", ".join(Settings.model_fields)
                raise ConfigError(f"{source}: unknown section '{section}' (allowed: {allowed})")
            if not isinstance(values, dict):
                raise ConfigError(f"{source}: '{section}' must be a table of settings")
            for key, value in values.items():
                merged.setdefault(section, {})[key] = value
                origins[f"{section}.{key}"] = source
    return merged, origins


def _explain(error: ValidationError, origins: dict[str, str]) -> ConfigError:
    first = error.errors()[0]
    loc = first["loc"]
    key = ".".join(str(p) for p in loc)
    source = origins.get(key, DEFAULT_SOURCE)
    if first["type"] == "extra_forbidden":
        section = Settings.model_fields[str(loc[0])].annotation
        allowed = ", ".join(section.model_fields)  # type: ignore[union-attr]
        return ConfigError(f"{source}: unknown setting '{key}' (allowed in [{loc[0]}]: {allowed})")
    return ConfigError(f"{source}: {key} = {first.get('input')!r}: {first['msg'].lower()}")


def load_settings(repo: Path | str | None = None, env: dict[str, str] | None = None) -> LoadedSettings:
    """Load and validate the effective settings for `repo` (None: no repository layer)."""
    env = dict(os.environ) if env is None else env
    merged, origins = _merge(_layers(Path(repo) if repo else None, env))
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as e:
        raise _explain(e, origins) from None
    return LoadedSettings(settings=settings, origins=origins)


def flatten(settings: Settings) -> dict[str, Any]:
    """`section.key` → value, in declaration order (for display)."""
    out: dict[str, Any] = {}
    for section in Settings.model_fields:
        for key, value in getattr(settings, section).model_dump().items():
            out[f"{section}.{key}"] = value
    return out


def override(settings: Settings, key: str, value: Any, source: str) -> None:
    """Set `section.key` from a command-line option, validated; errors name the option."""
    section, _, name = key.partition(".")
    try:
        setattr(getattr(settings, section), name, value)
    except ValidationError as e:
        first = e.errors()[0]
        raise ConfigError(f"{source} {value!r}: {first['msg'].lower()}") from None
