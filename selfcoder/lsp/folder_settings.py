"""The settings of a run started from the editor, per workspace folder, with the trust rule.

Three sources, in increasing precedence:

1. `load_settings(folder)`: the user's config file and environment (trusted) and the folder's
   own `selfcoder.toml` / `[tool.selfcoder]` (screened: they may only lower limits);
2. `initializationOptions` — the user's own editor client config (their `init.lua`, their VS Code
   *user* settings as the extension passes them): trusted like a command-line option over stdio,
   where the client is the process that started the server and chose its environment anyway;
   over TCP (`--tcp`, a client that only holds the token) screened like 3;
3. `workspace/configuration` (section `selfcoder`, scope = the folder): untrusted. A cloned
   repository carries its own `.vscode/settings.json`, and the client merges it into this
   answer, so we cannot tell the user's values from the repository's. It is screened exactly
   like repository config (`selfcoder.config._screen`): only lowered limits and harmless values
   apply; a model, endpoint, key, agent, backend or a raised limit is ignored and reported.

Both option objects have the shape of `Settings` (`{"model": {"name": ...}, "budget": {...}}`)
plus `testCmd` (the command that runs the folder's tests). A test command runs only inside the
sandbox, exactly like the repository's own tests, so a folder may set it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selfcoder.config import Settings, _Layer, _screen, load_settings, override
from selfcoder.config_trust import Refusal
from selfcoder.errors import ConfigError

# Keys of the option objects that are not `Settings` sections.
EXTRA_KEYS = ("testCmd", "review")


@dataclass
class FolderSettings:
    settings: Settings
    test_cmd: str | None = None
    warnings: list[str] = field(default_factory=list)


def split_options(options: Any, source: str) -> tuple[dict[str, dict], dict[str, Any]]:
    """(the `Settings`-shaped sections, the extra keys) of an options object; ConfigError when
    it is not an object of objects."""
    if options is None:
        return {}, {}
    if not isinstance(options, dict):
        raise ConfigError(f"{source}: must be an object of settings, got {type(options).__name__}")
    sections = {k: v for k, v in options.items() if k not in EXTRA_KEYS}
    extras = {k: options[k] for k in EXTRA_KEYS if k in options}
    return sections, extras


def apply_trusted(settings: Settings, options: Any, source: str) -> dict[str, Any]:
    """Apply the user's own options to `settings` (validated; a bad value is a ConfigError naming
    the key); returns the extra keys."""
    sections, extras = split_options(options, source)
    for section, values in sections.items():
        if section not in Settings.model_fields:
            raise ConfigError(f"{source}: unknown section '{section}' (allowed: {', '.join(Settings.model_fields)})")
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: '{section}' must be an object of settings")
        for key, value in values.items():
            if key not in type(getattr(settings, section)).model_fields:
                raise ConfigError(f"{source}: unknown setting '{section}.{key}'")
            override(settings, f"{section}.{key}", value, f"{source} {section}.{key}")
    return extras


def apply_untrusted(settings: Settings, options: Any, source: str) -> tuple[dict[str, Any], list[Refusal]]:
    """Apply what a folder's workspace settings may change (screened against `settings`);
    returns (the extra keys, the refusals). Never raises for the folder's values."""
    refused: list[Refusal] = []
    try:
        sections, extras = split_options(options, source)
    except ConfigError as e:
        return {}, [Refusal(source=source, reason=str(e).removeprefix(f"{source}: "))]
    kept = _screen(_Layer(source, sections, False), settings, refused)
    for section, values in kept.data.items():
        for key, value in values.items():
            override(settings, f"{section}.{key}", value, source)
    return extras, refused


def folder_settings(folder: Path, init_options: Any, workspace_options: Any,
                    init_trusted: bool = True) -> FolderSettings:
    """The effective settings for a run in `folder` (`init_trusted`: see 2. above)."""
    loaded = load_settings(folder)
    settings = loaded.settings
    if init_trusted:
        trusted_extras, refused = apply_trusted(settings, init_options, "initializationOptions"), []
    else:
        trusted_extras, refused = apply_untrusted(settings, init_options, "initializationOptions (over TCP)")
    extras, folder_refused = apply_untrusted(settings, workspace_options, f"workspace settings of {folder}")
    refused += folder_refused
    test_cmd = extras.get("testCmd") or trusted_extras.get("testCmd")
    if test_cmd is not None and not isinstance(test_cmd, str):
        refused.append(Refusal(source="testCmd", reason="must be a string"))
        test_cmd = trusted_extras.get("testCmd") if isinstance(trusted_extras.get("testCmd"), str) else None
    return FolderSettings(settings=settings, test_cmd=test_cmd or None,
                          warnings=loaded.warnings + [str(r) for r in refused])
