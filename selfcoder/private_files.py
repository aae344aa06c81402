"""Secrets this program writes for its own later use (the language server's TCP token, the local
model server's key, Ray's cluster token): readable by their owner only.

A file is created 0600 from the start, under a temporary name then renamed, so no other user can
open it in the moment between a umask-default create and a chmod; its directory is created 0700.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path


def new_secret() -> str:
    """256 random bits, as hex (what Ray's own token generator makes, too)."""
    return secrets.token_hex(32)


def write_private(path: Path, text: str) -> Path:
    """Write `text` to `path` (replacing it) readable and writable by this user only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def make_private(path: Path) -> None:
    """Take group and other permissions off an existing regular file of ours (a link is left alone)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and st.st_mode & 0o077:
        os.chmod(path, stat.S_IMODE(st.st_mode) & 0o700)
