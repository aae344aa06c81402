"""Where a scaffold (the agent code run inside the sandbox) comes from.

`seed` is generation 0 in the repository's `archive/seed/`; a path names any scaffold
directory (e.g. a child being evaluated). The evolve archive will add node ids here.
"""

from __future__ import annotations

from pathlib import Path

from selfcoder.errors import SelfcoderError

SEED_DIR = Path(__file__).resolve().parent.parent / "archive" / "seed"


def resolve_scaffold(node: str | Path) -> Path:
    """The host directory of the scaffold `node` (must contain main.py)."""
    path = SEED_DIR if str(node) == "seed" else Path(node).expanduser().resolve()
    if not path.is_dir():
        raise SelfcoderError(f"agent '{node}': not an archive node or a scaffold directory")
    if not (path / "main.py").is_file():
        raise SelfcoderError(f"agent '{node}': {path} has no main.py (a scaffold starts with main.py)")
    return path
