"""Settings: defaults < user config < `[tool.selfcoder]` in pyproject < `selfcoder.toml` < env
(< command-line options, `LoadedSettings.override`; < an editor's options, `LoadedSettings.apply`).

Every layer is a nested mapping with the same shape as `Settings`. We merge them
key by key, remember which layer each value came from (for `selfcoder config show`),
then validate the result once with pydantic.

Layers are trusted (defaults, the user config, the environment, the command line) or not
(the two repository layers). A repository layer is screened first (see config_trust.py): it may
only lower limits and set harmless per-project values; anything else — a model, an endpoint, the
runs dir, the agent, a raised limit, but also an unknown key, a bad value or a file that is not
TOML — is ignored and recorded in `LoadedSettings.refused`, never raised, so a hostile repository
stays solvable with the user's own settings. A bad value in a trusted layer becomes one
`ConfigError` line naming the key, the file it came from and what is allowed.

Environment variables use `SELFCODER_<SECTION>__<KEY>`, e.g.
`SELFCODER_BUDGET__MAX_CALLS=20` or `SELFCODER_MODEL__NAME=gpt-4o-mini`; a list as JSON,
`SELFCODER_AGENT__ATTEMPT_TEMPERATURES='[0.7]'` (as pydantic-settings reads complex values).
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from selfcoder.core.config_trust import Refusal, raises_limit, refusal_reason, short
from selfcoder.core.errors import ConfigError

ENV_PREFIX = "SELFCODER_"
DEFAULT_IMAGE = "selfcoder-base:bookworm"  # the offline-built base image (`selfcoder sandbox build-image`)
DEFAULT_SOURCE = "default"
MAX_REPO_CONFIG_BYTES = 1 << 20  # a repository's config file larger than this is not read


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelSettings(_Section):
    """Which model the agent talks to, through the gateway."""

    name: str = Field("auto", description="litellm model name; 'auto' = a hosted default if an API key is set, else 'local'")
    api_base: str | None = Field(None, description="endpoint override (OpenAI-compatible servers)")
    timeout_s: float = Field(300.0, gt=0, description="timeout of one model call")
    max_retries: int = Field(3, ge=0, le=10, description="retries on rate limits, timeouts, server errors")
    temperature: float = Field(0.0, ge=0, le=2, description="calls outside a run; a run's attempt uses agent.attempt_temperatures")
    max_tokens: int = Field(2048, gt=0, description="completion tokens per call")
    stall_timeout_s: float = Field(120.0, gt=0, description="a local reply with no token (and an idle server) this long is given up and retried")


class BudgetSettings(_Section):
    """Per-run limits; a run that reaches one stops with status `budget_exceeded`."""

    max_tokens: int = Field(400_000, gt=0)
    max_cost_usd: float = Field(2.0, gt=0)
    max_calls: int = Field(60, gt=0)


class LocalModelSettings(_Section):
    """The offline model served by llama-cpp-python."""

    threads: Annotated[int, Field(ge=1, le=256)] | Literal["auto"] = Field(
        "auto", description="llama.cpp threads; 'auto' = every CPU this process may use")
    n_ctx: int = Field(8192, ge=512)
    port: int = Field(0, ge=0, le=65535, description="0 = pick a free port")
    models_dir: Path = Field(Path("~/.cache/selfcoder/models"), description="where the GGUF file is assembled")
    idle_stop_s: float = Field(300.0, ge=0, description="a server started on demand stops after this idle time")


class SandboxSettings(_Section):
    """Where untrusted code runs, and its limits."""

    backend: Literal["local", "docker"] = "local"
    image: str = Field(DEFAULT_IMAGE, description="docker image (build offline: selfcoder sandbox build-image)")
    timeout_s: float = Field(300.0, gt=0, description="wall-clock limit of one command")
    memory_mb: int = Field(4096, ge=64)
    pids: int = Field(512, ge=16, description="processes/threads a sandbox may have")
    cpu_s: int = Field(1800, ge=1, description="CPU seconds one command may use")
    cpus: float = Field(0.0, ge=0, description="CPU cores a docker sandbox may use at once (0 = all)")
    file_size_mb: int = Field(1024, ge=1, description="largest file a command may write")
    output_bytes: int = Field(100_000, ge=1000, description="output kept per command (head and tail)")
    disk_mb: int = Field(2048, ge=0, description="disk the workspace and /tmp may fill (0 = unbounded)")
    patch_mb: int = Field(10, ge=1, description="largest patch a run may produce (else patch_too_large)")
    patch_files: int = Field(1000, ge=1, description="most files a patch may touch (else patch_too_large)")


class AgentSettings(_Section):
    """The scaffold that runs inside the sandbox."""

    node: str = Field("seed", description="archive node id or a path to a scaffold directory")
    max_steps: int = Field(30, ge=1)
    time_limit_s: float = Field(1800.0, gt=0)
    attempts: int = Field(1, ge=1, le=50, description="attempts per solve (--attempts); the first validated one is kept")
    attempt_temperatures: list[Annotated[float, Field(ge=0, le=2)]] = Field(
        [0.0, 0.7, 0.9], min_length=1,
        description="sampling temperature of attempts 1, 2, ... (the last repeats); the host imposes it on every call")
    max_temperature: float = Field(
        1.0, ge=0, le=2,
        description="the highest temperature a scaffold may ask for within an attempt (never less than the attempt's own; "
                    "0: every call at exactly its attempt's)")
    seed: int | None = Field(None, ge=0, description="base of the attempts' sampling seeds; unset = a new one per solve")
    parallel_attempts: Annotated[int, Field(ge=1, le=16)] | Literal["auto"] = Field(
        "auto", description="attempts run at once; 'auto' = 1 on the local model (one request at a time), else half the CPUs")


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
    """The validated settings, where each `section.key` value came from, and what a repository's
    config asked for but did not get (print `warnings`, one line each)."""

    settings: Settings
    origins: dict[str, str]
    refused: list[Refusal] = Field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return [str(r) for r in self.refused]

    def override(self, key: str, value: Any, source: str) -> None:
        """A command-line option (trusted, highest precedence): set `key` and record `source`."""
        _set(self.settings, key, value, source)
        self.origins[key] = source

    def apply(self, layer: "Layer") -> None:
        """Put `layer` on top of these settings. A trusted one must be valid: a bad section, key
        or value is a `ConfigError` naming `layer.source` and the key. An untrusted one is screened
        against the settings so far like a repository's config: what it may not set is added to
        `refused`, never raised."""
        data = layer.data
        if not layer.trusted:
            data = _screen(layer, self.settings, self.refused).data
        for section, values in data.items():
            if section not in Settings.model_fields:
                raise ConfigError(f"{layer.source}: unknown section '{section}' (allowed: {', '.join(Settings.model_fields)})")
            if not isinstance(values, dict):
                raise ConfigError(f"{layer.source}: '{section}' must be a table of settings")
            for key, value in values.items():
                if key not in type(getattr(self.settings, section)).model_fields:
                    raise ConfigError(f"{layer.source}: unknown setting '{section}.{key}'")
                _set(self.settings, f"{section}.{key}", value, f"{layer.source} {section}.{key}")
                self.origins[f"{section}.{key}"] = layer.source


class Layer(NamedTuple):
    """One source of settings: a mapping shaped like `Settings` (`{"budget": {"max_calls": 20}}`),
    where it came from (named in `config show` and in errors), and whether it is trusted; an
    untrusted layer (a repository's, an editor's workspace settings) is screened."""

    source: str
    data: dict[str, Any]
    trusted: bool


def user_config_path(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if "SELFCODER_CONFIG" in env:
        return Path(env["SELFCODER_CONFIG"]).expanduser()
    base = Path(env.get("XDG_CONFIG_HOME", "~/.config")).expanduser()
    return base / "selfcoder" / "config.toml"


def cache_dir() -> Path:
    """selfcoder's cache (the local model server's state, editor tokens): $SELFCODER_CACHE_DIR,
    else $XDG_CACHE_HOME/selfcoder, else ~/.cache/selfcoder."""
    if os.environ.get("SELFCODER_CACHE_DIR"):
        return Path(os.environ["SELFCODER_CACHE_DIR"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "selfcoder"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None


def _read_repo_toml(path: Path, refused: list[Refusal]) -> dict[str, Any] | None:
    """A repository's TOML file, or None (with a refusal) when it cannot be used: a link (it may
    point anywhere on the host), too large, unreadable or not TOML."""
    if path.is_symlink():
        refused.append(Refusal(source=str(path), reason="a symbolic link: repository config is not followed through links"))
        return None
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_REPO_CONFIG_BYTES:
        refused.append(Refusal(source=str(path), reason=f"larger than {MAX_REPO_CONFIG_BYTES >> 20} MiB"))
        return None
    try:
        return _read_toml(path)
    except ConfigError as e:
        refused.append(Refusal(source=str(path), reason=str(e).removeprefix(f"{path}: ")))
        return None


def _layers(repo: Path | None, env: dict[str, str], refused: list[Refusal]) -> list[Layer]:
    """The config layers in increasing precedence, each with a label for its source."""
    layers: list[Layer] = []
    user = user_config_path(env)
    if user.is_file():
        layers.append(Layer(str(user), _read_toml(user), True))
    if repo is not None:
        pyproject = repo / "pyproject.toml"
        data = (_read_repo_toml(pyproject, refused) or {}).get("tool", {})
        data = data.get("selfcoder") if isinstance(data, dict) else None
        if data is not None:
            source = f"{pyproject} [tool.selfcoder]"
            if isinstance(data, dict):
                layers.append(Layer(source, data, False))
            else:
                refused.append(Refusal(source=source, reason="must be a table of settings"))
        own = repo / "selfcoder.toml"
        data = _read_repo_toml(own, refused)
        if data is not None:
            layers.append(Layer(str(own), data, False))
    env_layer: dict[str, Any] = {}
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and "__" in key:
            section, _, name = key[len(ENV_PREFIX):].lower().partition("__")
            env_layer.setdefault(section, {})[name] = _env_value(value)
    if env_layer:
        layers.append(Layer("environment", env_layer, True))
    return layers


def _env_value(value: str) -> Any:
    """A JSON list as a list (a shell can only pass strings); anything else as given, for pydantic."""
    if value.lstrip().startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            pass  # left a string: pydantic's error names the key and the environment
    return value


def _merge(layers: list[Layer]) -> tuple[dict[str, Any], dict[str, str]]:
    merged: dict[str, dict[str, Any]] = {}
    origins: dict[str, str] = {}
    for source, data, _ in layers:
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


def _screen(layer: Layer, trusted: Settings, refused: list[Refusal]) -> Layer:
    """The part of an untrusted layer that may apply; every other key becomes a `Refusal`.
    Values are validated one by one here (a bad one is refused, not raised) and lower-only
    limits are compared with `trusted`, the settings from the trusted layers alone."""
    kept: dict[str, dict[str, Any]] = {}

    def refuse(key: str, reason: str) -> None:
        refused.append(Refusal(source=layer.source, key=key, reason=reason))

    for section, values in layer.data.items():
        if section not in Settings.model_fields:
            refuse(section, f"unknown section (allowed: {', '.join(Settings.model_fields)})")
            continue
        if not isinstance(values, dict):
            refuse(section, "must be a table of settings")
            continue
        current = getattr(trusted, section)
        for key, value in values.items():
            flat = f"{section}.{key}"
            if key not in type(current).model_fields:
                refuse(flat, f"unknown setting (allowed in [{section}]: {', '.join(type(current).model_fields)})")
                continue
            reason = refusal_reason(flat)
            if reason is None:
                probe = current.model_copy()
                try:
                    setattr(probe, key, value)
                except ValidationError as e:
                    reason = f"{short(value)}: {e.errors()[0]['msg'].lower()}"
                else:
                    reason = raises_limit(flat, getattr(probe, key), getattr(current, key))
            if reason is not None:
                refuse(flat, reason)
                continue
            kept.setdefault(section, {})[key] = value
    return Layer(layer.source, kept, False)


def _explain(error: ValidationError, origins: dict[str, str]) -> ConfigError:
    first = error.errors()[0]
    loc = first["loc"][:2]  # section.key (a union adds the member it tried: 'constrained-int')
    key = ".".join(str(p) for p in loc)
    source = origins.get(key, DEFAULT_SOURCE)
    if first["type"] == "extra_forbidden":
        section = Settings.model_fields[str(loc[0])].annotation
        allowed = ", ".join(section.model_fields)  # type: ignore[union-attr]
        return ConfigError(f"{source}: unknown setting '{key}' (allowed in [{loc[0]}]: {allowed})")
    return ConfigError(f"{source}: {key} = {first.get('input')!r}: {first['msg'].lower()}")


def _validate(layers: list[Layer]) -> tuple[Settings, dict[str, str]]:
    merged, origins = _merge(layers)
    try:
        return Settings.model_validate(merged), origins
    except ValidationError as e:
        raise _explain(e, origins) from None


def load_settings(repo: Path | str | None = None, env: dict[str, str] | None = None) -> LoadedSettings:
    """Load and validate the effective settings for `repo` (None: no repository layer).

    Raises `ConfigError` only for the trusted layers; what a repository layer may not set is
    ignored and listed in `refused`."""
    env = dict(os.environ) if env is None else env
    refused: list[Refusal] = []
    layers = _layers(Path(repo) if repo else None, env, refused)
    trusted, _ = _validate([layer for layer in layers if layer.trusted])
    screened = [layer if layer.trusted else _screen(layer, trusted, refused) for layer in layers]
    settings, origins = _validate(screened)
    return LoadedSettings(settings=settings, origins=origins, refused=refused)


def flatten(settings: Settings) -> dict[str, Any]:
    """`section.key` → value, in declaration order (for display)."""
    out: dict[str, Any] = {}
    for section in Settings.model_fields:
        for key, value in getattr(settings, section).model_dump().items():
            out[f"{section}.{key}"] = value
    return out


def _set(settings: Settings, key: str, value: Any, source: str) -> None:
    """Set `section.key`, validated; errors name `source` (the option, or the layer and key)."""
    section, _, name = key.partition(".")
    try:
        setattr(getattr(settings, section), name, value)
    except ValidationError as e:
        first = e.errors()[0]
        raise ConfigError(f"{source} {value!r}: {first['msg'].lower()}") from None
