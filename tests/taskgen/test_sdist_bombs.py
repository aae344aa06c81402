"""Hostile sdists for `selfcoder bench gen` (security round 3, finding 7b): an archive of a few
hundred KB that unpacks to hundreds of MB on the host, or to tens of thousands of files, is refused
in one line naming the sdist and the cap; members that are links, devices, absolute or `..` paths
still never land outside (or at all). The archives are crafted at test time from zeros, so they
are small while the test runs."""

from __future__ import annotations

import io
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from taskgen_cli import selfcoder  # noqa: E402

from selfcoder.taskgen import sdist  # noqa: E402
from selfcoder.taskgen.sdist import SdistError  # noqa: E402

BOMB = sdist.MAX_UNPACKED_BYTES + 2**20  # just past the default cap


class Zeros(io.RawIOBase):
    """`size` zero bytes, read in chunks (the bomb is never held in memory)."""

    def __init__(self, size: int):
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def pkg_info(tar: tarfile.TarFile, top: str) -> None:
    data = f"Metadata-Version: 2.1\nName: {top.split('-')[0]}\nVersion: 1.0\n".encode()
    info = tarfile.TarInfo(f"{top}/PKG-INFO")
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def one_line_error(res, *needles: str) -> None:
    assert res.returncode == 2, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert all(n in lines[0] for n in needles), lines[0]


def test_bench_gen_refuses_an_sdist_that_unpacks_past_the_size_cap(tmp_path, caches):
    archive = tmp_path / "bomb-1.0.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=9) as tar:
        pkg_info(tar, "bomb-1.0")
        info = tarfile.TarInfo("bomb-1.0/tests/data.bin")
        info.size = BOMB
        tar.addfile(info, Zeros(BOMB))
    assert archive.stat().st_size < 400_000
    res = selfcoder("bench", "gen", "--sdist", str(archive), "--out", str(tmp_path / "out"))
    one_line_error(res, str(archive), "more than 200 MB", "uncompressed size")


def test_bench_gen_refuses_an_sdist_with_too_many_members(tmp_path, caches):
    archive = tmp_path / "many-1.0.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=9) as tar:
        pkg_info(tar, "many-1.0")
        for i in range(sdist.MAX_MEMBERS + 1):
            tar.addfile(tarfile.TarInfo(f"many-1.0/tests/test_{i}.py"), io.BytesIO(b""))
    assert archive.stat().st_size < 1_000_000
    res = selfcoder("bench", "gen", "--sdist", str(archive), "--out", str(tmp_path / "out"))
    one_line_error(res, str(archive), f"more than {sdist.MAX_MEMBERS} members")


def test_a_zip_bomb_is_stopped_while_it_is_written(tmp_path):
    archive = tmp_path / "bomb-1.0.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("bomb-1.0/data.bin", "w", force_zip64=True) as f:
            chunk = bytes(2**20)
            for _ in range(BOMB // len(chunk)):
                f.write(chunk)
    assert archive.stat().st_size < 400_000
    dest = tmp_path / "work" / "clean"
    dest.parent.mkdir()
    with pytest.raises(SdistError, match="more than 200 MB"):
        sdist.unpack(archive, dest)
    assert list(dest.parent.iterdir()) == []  # the partial unpack is gone


def test_links_devices_and_escaping_members_never_land(tmp_path):
    def pack(name: str, add) -> Path:
        archive = tmp_path / f"{name}.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            pkg_info(tar, name)
            add(tar)
        return archive

    def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, link
        return info

    outside = tmp_path / "outside"
    for name, bad in (("up-1.0", "up-1.0/../../outside"), ("abs-1.0", str(outside))):
        archive = pack(name, lambda tar, bad=bad: tar.addfile(member(bad), io.BytesIO(b"")))
        (tmp_path / name).mkdir()
        with pytest.raises(SdistError, match="member outside the archive's root"):
            sdist.unpack(archive, tmp_path / name / "clean")
    assert not outside.exists()

    def links(tar: tarfile.TarFile) -> None:
        tar.addfile(member("links-1.0/sym", tarfile.SYMTYPE, "/etc/passwd"))
        tar.addfile(member("links-1.0/hard", tarfile.LNKTYPE, "links-1.0/PKG-INFO"))
        tar.addfile(member("links-1.0/dev", tarfile.CHRTYPE))
        tar.addfile(member("links-1.0/fifo", tarfile.FIFOTYPE))

    (tmp_path / "links").mkdir()
    project = sdist.unpack(pack("links-1.0", links), tmp_path / "links" / "clean")
    assert sorted(p.name for p in project.root.iterdir()) == ["PKG-INFO"]
    assert (project.name, project.version) == ("links", "1.0")


def test_a_zip_symlink_member_is_not_written(tmp_path):
    archive = tmp_path / "zlink-1.0.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zlink-1.0/PKG-INFO", "Metadata-Version: 2.1\nName: zlink\nVersion: 1.0\n")
        link = zipfile.ZipInfo("zlink-1.0/sym")
        link.external_attr = (0o120777 << 16)  # S_IFLNK
        z.writestr(link, "/etc/passwd")
    (tmp_path / "w").mkdir()
    project = sdist.unpack(archive, tmp_path / "w" / "clean")
    assert sorted(p.name for p in project.root.iterdir()) == ["PKG-INFO"]
