"""The mutable surface: which files of the scaffold a child may change (`evolve --scope`).

A scaffold declares its scopes in `surface.toml` (archive/seed/surface.toml): a name → path
patterns. A small model does best when it may only tune what one small edit can improve
(settings, prompts, one-file policies); a strong model may rewrite the loop (`all`). The
search reads the manifest from the archive's root — the user's scaffold — never from a child,
and the manifest itself is outside every scope, so a child cannot widen what its descendants
may change. Admission judges each path a child's diff touches (old and new path of a rename,
quoted names as git writes them: selfcoder/core/patch_paths.py).
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path

from selfcoder.core.errors import SelfcoderError

MANIFEST = "surface.toml"
# a new archive's scope: the edits a small (local) model can make without breaking the loop
DEFAULT_SCOPE = "policies"
# the scope of an archive made before scopes existed: the child could change anything
LEGACY_SCOPE = "all"
# the manifest of a scaffold that has none (a user's own seed): the shipped seed's scopes
DEFAULT_SURFACE = {
    "config": ["config.json"],
    "prompts": ["prompts/**"],
    "policies": ["config.json", "prompts/**", "policies.py", "policies/**", "*_policy.py", "fast_path.py",
                 "localize.py", "function_edit.py", "reproduce.py"],
    "all": ["**"],
}


def load(scaffold: Path) -> dict[str, list[str]]:
    """The scopes `scaffold` declares (DEFAULT_SURFACE when it has no manifest)."""
    path = Path(scaffold) / MANIFEST
    if not path.is_file():
        return {k: list(v) for k, v in DEFAULT_SURFACE.items()}
    try:
        scopes = tomllib.loads(path.read_text()).get("scopes")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise SelfcoderError(f"{path}: not a readable surface manifest: {e}") from None
    if not isinstance(scopes, dict) or not scopes or not all(
            isinstance(v, list) and v and all(isinstance(p, str) and p for p in v) for v in scopes.values()):
        raise SelfcoderError(f"{path}: needs a [scopes] table of name = [\"path pattern\", ...]")
    return {str(k): list(v) for k, v in scopes.items()}


def patterns(surface: dict[str, list[str]], scope: str) -> list[str]:
    if scope not in surface:
        raise SelfcoderError(f"--scope {scope}: the scaffold's {MANIFEST} declares {', '.join(surface)}")
    return surface[scope]


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            out.append({"*": "[^/]*", "?": "[^/]"}.get(pattern[i], re.escape(pattern[i])))
            i += 1
    return re.compile("".join(out), re.S)


def allows(path: str, pats: list[str]) -> bool:
    """Whether a child may change `path` (relative, as in a diff) under `pats`; never the manifest."""
    return path != MANIFEST and any(_regex(p).fullmatch(path) for p in pats)


def scope_problem(patch: str, scope: str, pats: list[str]) -> str | None:
    """Why a child's diff is outside its scope (naming the files), or None."""
    from selfcoder.core.patch_paths import parse_changes

    try:
        changes = parse_changes(patch)
    except SelfcoderError as e:
        return str(e)
    outside: list[str] = []
    for change in changes:
        for path in (change.old_path, change.path):
            if path and not allows(path, pats) and path not in outside:
                outside.append(path)
    if not outside:
        return None
    named = ", ".join(repr(p) for p in outside[:5]) + (", ..." if len(outside) > 5 else "")
    return f"the diff changes {named}, outside --scope {scope} ({', '.join(pats)})"


def files_in_scope(scaffold: Path, pats: list[str]) -> list[str]:
    """The scaffold's files a child may change, in path order."""
    root = Path(scaffold)
    found = (p.relative_to(root).as_posix() for p in root.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts)
    return sorted(f for f in found if allows(f, pats))


def note(scope: str, pats: list[str], files: list[str]) -> str:
    """What the diagnosis and the self-modification are told of the scope."""
    if pats == ["**"]:
        return (f"You may change any file of the agent (--scope {scope}) except {MANIFEST}; the tests under "
                "tests/ may be added to, never weakened.")
    shown = ", ".join(files[:40]) + (", ..." if len(files) > 40 else "") or "(none yet)"
    return (f"You may change only these files of the agent (--scope {scope}): {shown}; a new file only where "
            f"its path matches {', '.join(pats)}. A change to any other file makes the new agent invalid.")
