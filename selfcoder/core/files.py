"""The one way selfcoder writes a file that others read while it may be rewritten: a temporary
name in the same directory, written in full (and synced), then renamed over the target, so a
reader or a kill never sees half a file (records, reports, state files, owner files).

Secrets this program writes for its own later use (the language server's TCP token, the local
model server's key, Ray's cluster token) go through the same path with mode 0600 from the start,
so no other user can open them in the moment between a umask-default create and a chmod; their
directory is created 0700.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path


def new_secret() -> str:
    """256 random bits, as hex (what Ray's own token generator makes, too)."""
    return secrets.token_hex(32)


def atomic_write(path: Path, text: str, *, mode: int = 0o644, sync: bool = True) -> Path:
    """Replace `path` with `text` in one rename (its directory made if missing); `sync` makes it
    survive a power cut as well."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_private(path: Path, text: str) -> Path:
    """Write `text` to `path` (replacing it) readable and writable by this user only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return atomic_write(path, text, mode=0o600, sync=False)


def make_private(path: Path) -> None:
    """Take group and other permissions off an existing regular file of ours (a link is left alone)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and st.st_mode & 0o077:
        os.chmod(path, stat.S_IMODE(st.st_mode) & 0o700)
