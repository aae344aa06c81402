"""A recipe: which libraries (and versions, seeds, counts) a task set is built from.

    [defaults]                       # optional: every library's fields unless it sets its own
    python = "3.11"
    requirements = ["pytest==8.3.3"]

    [[library]]
    sdist = "toolz==1.0.0"           # NAME==VERSION, or a path (relative to the recipe file)
    count = 8
    seed = 1
    tests = ["toolz/tests"]          # optional; and test_cmd, install, files, operators,
                                     # max_tries, allow_clean_failures (see GenConfig)
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from selfcoder.core.errors import SelfcoderError
from selfcoder.taskgen.build import GenConfig
from selfcoder.taskgen.sdist import is_archive_path

FIELDS = {f.name for f in dataclasses.fields(GenConfig)}


def load_recipe(path: Path) -> list[GenConfig]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as e:
        raise SelfcoderError(f"{path}: cannot read the recipe: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise SelfcoderError(f"{path}: not valid TOML: {e}") from None
    defaults = data.get("defaults", {})
    libraries = data.get("library")
    if not isinstance(libraries, list) or not libraries:
        raise SelfcoderError(f"{path}: the recipe names no [[library]]")
    unknown_top = set(data) - {"defaults", "library"}
    if unknown_top:
        raise SelfcoderError(f"{path}: unknown section(s) {', '.join(sorted(unknown_top))} (allowed: defaults, library)")
    configs = []
    for n, lib in enumerate(libraries, 1):
        merged = {**defaults, **lib}
        unknown = set(merged) - FIELDS
        if unknown:
            raise SelfcoderError(f"{path}: library {n}: unknown field(s) {', '.join(sorted(unknown))} "
                                 f"(allowed: {', '.join(sorted(FIELDS))})")
        if "sdist" not in merged:
            raise SelfcoderError(f"{path}: library {n} has no sdist (NAME==VERSION or a path)")
        if is_archive_path(merged["sdist"]) and not Path(merged["sdist"]).is_absolute():
            merged["sdist"] = str(path.parent / merged["sdist"])
        try:
            configs.append(GenConfig(**merged))
        except TypeError as e:
            raise SelfcoderError(f"{path}: library {n}: {e}") from None
    return configs
