"""A real project's source distribution: fetched from the package index (on the host, never in a
sandbox), cached, unpacked safely, made a git repository of one commit, and read for its layout.

    archive = locate("more-itertools==10.5.0", log)   # or a local .tar.gz / .zip path
    project = unpack(archive, work_dir)                 # Project(root, name, version, created_at)
    commit = commit_tree(project.root, "message")       # hardened host git (selfcoder.core.gitsafe)
    find_tests(root), source_files(root, tests)

The cache is `$SELFCODER_SDIST_CACHE`, else `~/.cache/selfcoder/sdists`: one directory per
`name-version` holding the archive fetched from the index (selfcoder.taskgen.pypi: as a plain file, sha256-checked;
never `pip download`, which runs an sdist's build backend on the host), so a second build works offline.
"""

from __future__ import annotations

import datetime as dt
import email.parser
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable

from selfcoder.core.errors import SelfcoderError
from selfcoder.core.gitsafe import NEUTRAL_ATTRIBUTES, git
from selfcoder.taskgen import pypi

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")
SPEC = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9][A-Za-z0-9.+!_-]*)$")
TEST_DIRS = ("tests", "test", "testing")
NOT_SOURCE_DIRS = {"docs", "doc", "examples", "example", "benchmarks", "benchmark", "bench", "scripts", "tools",
                   "build", "dist", "site-packages", ".git", "__pycache__", "venv", ".venv", ".tox", ".nox"}
MAX_UNPACKED_BYTES = 200 * 2**20  # real sdists with tests are a few MB; the biggest common ones, ~50 MB
MAX_MEMBERS = 20_000
CHUNK = 1 << 20
NOT_SOURCE_FILES = {"setup.py", "conftest.py", "noxfile.py", "fabfile.py", "tasks.py", "_version.py", "version.py",
                    "conf.py", "__main__.py", "versioneer.py"}


class SdistError(SelfcoderError):
    """The sdist cannot be had or used: unknown package or version, broken archive, no tests."""


@dataclass
class Project:
    root: Path
    name: str
    version: str
    created_at: str  # ISO 8601: the newest file time in the archive (the release, roughly)


def cache_root() -> Path:
    if os.environ.get("SELFCODER_SDIST_CACHE"):
        return Path(os.environ["SELFCODER_SDIST_CACHE"])
    return Path.home() / ".cache" / "selfcoder" / "sdists"


def is_archive_path(spec: str) -> bool:
    return spec.endswith(ARCHIVE_SUFFIXES) or os.sep in spec


def _archives_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.name.endswith(ARCHIVE_SUFFIXES))


def locate(spec: str, log: Callable[[str], None] = lambda s: None) -> Path:
    """The archive for `spec`: a local file, or `NAME==VERSION` from the cache or the package index."""
    if is_archive_path(spec):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise SdistError(f"{spec}: no such sdist file")
        if not path.name.endswith(ARCHIVE_SUFFIXES):
            raise SdistError(f"{spec}: not an sdist archive (expected one of {', '.join(ARCHIVE_SUFFIXES)})")
        return path
    m = SPEC.match(spec.strip())
    if not m:
        raise SdistError(f"--sdist {spec!r}: give NAME==VERSION (e.g. toolz==1.0.0) or a path to an .tar.gz/.zip sdist")
    name, version = m.groups()
    key = pypi.normalize(name) + "-" + version
    target = cache_root() / key
    if target.is_dir() and _archives_in(target):
        return _archives_in(target)[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    log(f"downloading the sdist of {name}=={version} from {pypi.index_url()}")
    try:
        pypi.fetch_sdist(name, version, target)
    except pypi.PackageIndexError as e:
        raise SdistError(str(e)) from None
    return _archives_in(target)[0]


# -- unpacking ---------------------------------------------------------------------------------------


def _member_parts(archive: Path, name: str) -> list[str]:
    """The member's path parts under the archive root; an absolute or `..` path is refused."""
    name = name.replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or ".." in parts:
        raise SdistError(f"{archive}: member outside the archive's root: {name}")
    return parts


class _Caps:
    """What an archive may unpack to (a 300 KB sdist unpacked to 302 MB on the host): the bytes
    really written are counted as they are written, whatever the headers say."""

    def __init__(self, archive: Path, max_bytes: int, max_members: int):
        self.archive, self.max_bytes, self.max_members = archive, max_bytes, max_members
        self.written = self.members = 0

    def member(self) -> None:
        self.members += 1
        if self.members > self.max_members:
            raise SdistError(f"{self.archive}: more than {self.max_members} members (the cap on an sdist's "
                             "member count); refusing to unpack it")  # fmt: skip

    def declared(self, size: int) -> None:
        if self.written + size > self.max_bytes:
            self.too_big()

    def too_big(self) -> None:
        raise SdistError(f"{self.archive}: unpacks to more than {self.max_bytes // 2**20} MB (the cap on an "
                         "sdist's uncompressed size); refusing to unpack it")  # fmt: skip

    def copy(self, src: IO[bytes], target: Path, executable: bool) -> None:
        """Write `src` to the new file `target` (never through a link), counting every byte."""
        target.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        with os.fdopen(os.open(target, flags, 0o755 if executable else 0o644), "wb") as out:
            while chunk := src.read(CHUNK):
                self.written += len(chunk)
                if self.written > self.max_bytes:
                    self.too_big()
                out.write(chunk)


def _extract(archive: Path, dest: Path, max_bytes: int, max_members: int) -> float:
    """Unpack `archive` into `dest`, only regular files and directories (no links, devices or
    fifos in a task); the newest member time (seconds since the epoch)."""
    newest = 0.0
    caps = _Caps(archive, max_bytes, max_members)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            infos = z.infolist()
            for info in infos[: max_members + 1]:
                caps.member()
                parts = _member_parts(archive, info.filename)
                newest = max(newest, dt.datetime(*info.date_time, tzinfo=dt.timezone.utc).timestamp())
                mode = info.external_attr >> 16
                if not parts or stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):  # a link
                    continue
                if info.is_dir():
                    dest.joinpath(*parts).mkdir(parents=True, exist_ok=True)
                    continue
                caps.declared(info.file_size)
                with z.open(info) as src:
                    caps.copy(src, dest.joinpath(*parts), bool(mode & 0o111))
        return newest
    with tarfile.open(archive) as tar:
        while (m := tar.next()) is not None:  # one header at a time: a bomb is stopped while it streams
            caps.member()
            parts = _member_parts(archive, m.name)
            newest = max(newest, float(m.mtime))
            if not parts or not (m.isfile() or m.isdir()):
                continue
            if m.isdir():
                dest.joinpath(*parts).mkdir(parents=True, exist_ok=True)
                continue
            caps.declared(m.size)
            src = tar.extractfile(m)
            if src is not None:
                caps.copy(src, dest.joinpath(*parts), bool(m.mode & 0o111))
    return newest


def _metadata(root: Path) -> tuple[str | None, str | None]:
    pkg_info = root / "PKG-INFO"
    if not pkg_info.is_file():
        return None, None
    msg = email.parser.Parser().parsestr(pkg_info.read_text(errors="replace"), headersonly=True)
    return msg.get("Name"), msg.get("Version")


def unpack(archive: Path, dest: Path, *, max_bytes: int = MAX_UNPACKED_BYTES,
           max_members: int = MAX_MEMBERS) -> Project:
    """Unpack into the empty directory `dest` (a single top-level directory is unwrapped), refusing
    an archive over `max_bytes` uncompressed or `max_members` members."""
    staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".unpack-"))
    try:
        try:
            newest = _extract(archive, staging, max_bytes, max_members)
        except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError) as e:
            raise SdistError(f"{archive}: cannot unpack: {e}") from None
        entries = list(staging.iterdir())
        top = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
        shutil.rmtree(dest, ignore_errors=True)
        shutil.move(str(top), dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for dotgit in list(dest.rglob(".git")):  # an sdist carries none; one that does gets no say
        shutil.rmtree(dotgit) if dotgit.is_dir() else dotgit.unlink()
    name, version = _metadata(dest)
    stem = archive.name
    for suffix in ARCHIVE_SUFFIXES:
        stem = stem[: -len(suffix)] if stem.endswith(suffix) else stem
    if not name or not version:
        guess = re.match(r"^(.+?)-(\d[^-]*)$", stem)
        name, version = (guess.groups() if guess else (stem, "0"))
    created = dt.datetime.fromtimestamp(newest or 0, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Project(root=dest, name=name, version=version, created_at=created)


# -- git ----------------------------------------------------------------------------------------------


def commit_tree(root: Path, message: str) -> str:
    """Make `root` a git repository whose only commit holds every file (ignore rules do not apply:
    an sdist may ship files its .gitignore names, such as a generated _version.py)."""
    if not (root / ".git").exists():
        git(["init", "-q", str(root)])
        (root / ".git" / "info").mkdir(exist_ok=True)
        (root / ".git" / "info" / "attributes").write_text(NEUTRAL_ATTRIBUTES)
    git(["add", "-A", "-f", "."], worktree=root)
    git(["commit", "-q", "--allow-empty", "--no-verify", "-m", message], worktree=root)
    git(["gc", "-q", "--prune=now"], worktree=root)
    return git(["rev-parse", "HEAD"], worktree=root).stdout.decode().strip()


def diff_to(root: Path, rel: str, content: str) -> str:
    """The diff from the committed `rel` to `content` (git format, blob ids included for
    `git apply --3way`); the working file is put back as committed afterwards."""
    path = root / rel
    committed = path.read_bytes()
    try:
        path.write_text(content)
        out = git(["diff", "--no-ext-diff", "--no-textconv", "--no-color", "--full-index", "--", rel], worktree=root)
    finally:
        path.write_bytes(committed)
    return out.stdout.decode()


# -- layout --------------------------------------------------------------------------------------------


def _is_test_file(name: str) -> bool:
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py") or name == "test.py"
                                     or name == "tests.py")


def find_tests(root: Path) -> list[str]:
    """Test paths relative to `root`: every outermost test directory, else top-level test files."""
    found: list[str] = []
    for dirpath, dirnames, _filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        dirnames[:] = sorted(d for d in dirnames if d not in NOT_SOURCE_DIRS - set(TEST_DIRS) and not d.startswith("."))
        if rel.parts and rel.parts[-1] in TEST_DIRS:
            if any(_is_test_file(f) for _, _, files in os.walk(dirpath) for f in files):
                found.append(rel.as_posix())
            dirnames[:] = []
    if not found:
        found = sorted(f for f in os.listdir(root) if _is_test_file(f) and (root / f).is_file())
    return found


def _packages(root: Path) -> list[str]:
    """Top-level import packages (directories with __init__.py), at the root or under src/."""
    found = []
    for base in (root, root / "src"):
        if base.is_dir():
            found += [p.relative_to(root).as_posix() for p in sorted(base.iterdir())
                      if p.is_dir() and (p / "__init__.py").is_file() and p.name not in NOT_SOURCE_DIRS | set(TEST_DIRS)]
    return found


def source_files(root: Path, tests: list[str]) -> list[str]:
    """The modules that mutations may change: the project's packages' Python files (or, with no
    package, its top-level modules), outside tests, docs and build helpers."""
    test_prefixes = tuple(t.rstrip("/") + "/" for t in tests)
    packages = tuple(p + "/" for p in _packages(root))
    files = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        parts = rel.split("/")
        if packages and not rel.startswith(packages):
            continue
        if not packages and len(parts) > (2 if parts[0] == "src" else 1):
            continue
        if rel in tests or rel.startswith(test_prefixes) or any(p in NOT_SOURCE_DIRS or p in TEST_DIRS for p in parts[:-1]):
            continue
        if parts[-1] in NOT_SOURCE_FILES or _is_test_file(parts[-1]) or any(p.startswith(".") for p in parts):
            continue
        if path.is_symlink() or not path.is_file():
            continue
        files.append(rel)
    return files


def src_layout(root: Path) -> bool:
    """Whether the package lives under src/ (the tests then need src on PYTHONPATH)."""
    src = root / "src"
    return src.is_dir() and any(p.is_dir() and (p / "__init__.py").exists() or p.suffix == ".py" for p in src.iterdir())
