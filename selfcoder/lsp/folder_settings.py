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
   like repository config (`LoadedSettings.apply` of an untrusted `Layer`): only lowered limits and harmless values
   apply; a model, endpoint, key, agent, backend or a raised limit is ignored and reported.

Both option objects have the shape of `Settings` (`{"model": {"name": ...}, "budget": {...}}`)
plus `testCmd` (the command that runs the folder's tests). A test command runs only inside the
sandbox, exactly like the repository's own tests, so a folder may set it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selfcoder.core.config import Layer, LoadedSettings, Settings, load_settings
from selfcoder.core.config_trust import Refusal
from selfcoder.core.errors import ConfigError

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


def folder_settings(folder: Path, init_options: Any, workspace_options: Any,
                    init_trusted: bool = True) -> FolderSettings:
    """The effective settings for a run in `folder` (`init_trusted`: see 2. above)."""
    loaded = load_settings(folder)
    init_source = "initializationOptions" if init_trusted else "initializationOptions (over TCP)"
    trusted_extras = _apply(loaded, init_options, init_source, trusted=init_trusted)
    extras = _apply(loaded, workspace_options, f"workspace settings of {folder}", trusted=False)
    test_cmd = extras.get("testCmd") or trusted_extras.get("testCmd")
    if test_cmd is not None and not isinstance(test_cmd, str):
        loaded.refused.append(Refusal(source="testCmd", reason="must be a string"))
        test_cmd = trusted_extras.get("testCmd") if isinstance(trusted_extras.get("testCmd"), str) else None
    return FolderSettings(settings=loaded.settings, test_cmd=test_cmd or None, warnings=loaded.warnings)


def _apply(loaded: LoadedSettings, options: Any, source: str, trusted: bool) -> dict[str, Any]:
    """Put an options object on top of `loaded` as a `Layer`; returns its extra keys. Untrusted
    options that are not an object are refused (in `loaded.refused`), never raised."""
    try:
        sections, extras = split_options(options, source)
    except ConfigError as e:
        if trusted:
            raise
        loaded.refused.append(Refusal(source=source, reason=str(e).removeprefix(f"{source}: ")))
        return {}
    loaded.apply(Layer(source, sections, trusted))
    return extras
