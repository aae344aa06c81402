"""Files from the package index without running any of their code.

`pip download` of a source distribution runs the package's build backend (`setup.py egg_info`,
PEP 517 `prepare_metadata_for_build_wheel`) on the host to read its metadata: code of an untrusted
project, as the user who runs selfcoder, before any sandbox exists. So sdists are fetched here as
plain files instead: the index's JSON listing (PEP 691, `Accept: application/vnd.pypi.simple.v1+json`)
names each file with its sha256; the file is downloaded and its hash checked (against the index's, and
against a caller's pin when it has one). Nothing is unpacked or run here.

The index is `$SELFCODER_PYPI_SIMPLE`, else `$PIP_INDEX_URL`, else https://pypi.org/simple.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from selfcoder.core.errors import SelfcoderError

TIMEOUT_S = 120
SDIST_SUFFIXES = (".tar.gz", ".zip")


class PackageIndexError(SelfcoderError):
    """The index cannot be reached, does not have the file, or served a file whose hash is wrong."""


def index_url() -> str:
    return (os.environ.get("SELFCODER_PYPI_SIMPLE") or os.environ.get("PIP_INDEX_URL")
            or "https://pypi.org/simple").rstrip("/")


def normalize(name: str) -> str:
    """PEP 503's normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _get(url: str, accept: str | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    context = ssl.create_default_context(cafile=os.environ.get("PIP_CERT") or None)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=context) as r:
            return r.read()
    except urllib.error.HTTPError as e:
        raise PackageIndexError(f"cannot fetch {url}: HTTP {e.code}") from None
    except (urllib.error.URLError, OSError) as e:
        raise PackageIndexError(f"cannot fetch {url}: {getattr(e, 'reason', e)}") from None


def listing(project: str) -> list[dict]:
    """The index's files of `project` (PEP 691 entries: filename, url, hashes, ...)."""
    url = f"{index_url()}/{normalize(project)}/"
    try:
        data = json.loads(_get(url, accept="application/vnd.pypi.simple.v1+json"))
    except ValueError:
        raise PackageIndexError(f"{url}: the index did not answer in JSON (PEP 691)") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list):
        raise PackageIndexError(f"{url}: no file list in the index's answer")
    return [f for f in files if isinstance(f, dict) and isinstance(f.get("filename"), str)]


def sdist_name(project: str, version: str, files: list[dict]) -> str | None:
    """The sdist file of `project==version` in `files` (names use `_` or `-`, any case)."""
    want = {f"{stem}-{version}".lower() for stem in (normalize(project), normalize(project).replace("-", "_"))}
    for entry in files:
        name = entry["filename"]
        for suffix in SDIST_SUFFIXES:
            if name.endswith(suffix) and name[: -len(suffix)].lower() in want:
                return name
    return None


def fetch(project: str, filename: str, dest_dir: Path, *, sha256: str | None = None,
          files: list[dict] | None = None) -> Path:
    """`filename` of `project` into `dest_dir`, its hash checked; kept when already there and right."""
    target = dest_dir / filename
    if sha256 and target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
        return target
    files = listing(project) if files is None else files
    found = [f for f in files if f["filename"] == filename]
    if not found or not isinstance(found[0].get("url"), str):
        raise PackageIndexError(f"{filename} is not in the package index ({index_url()}/{normalize(project)}/)")
    published = (found[0].get("hashes") or {}).get("sha256")
    want = sha256 or published
    if not want:
        raise PackageIndexError(f"{filename}: the index gives no sha256 for it; refusing an unchecked download")
    url = urllib.parse.urljoin(f"{index_url()}/{normalize(project)}/", found[0]["url"])
    data = _get(url)
    digest = hashlib.sha256(data).hexdigest()
    if digest != want or (published and published != want):
        raise PackageIndexError(f"{filename}: sha256 {digest} is not the expected {want}")
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{filename}.part")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


def fetch_sdist(project: str, version: str, dest_dir: Path) -> Path:
    """The source distribution of `project==version` into `dest_dir` (no code of it runs)."""
    files = listing(project)
    name = sdist_name(project, version, files)
    if name is None:
        versions = "no such version" if not any(f"-{version}" in f["filename"] for f in files) else "no sdist"
        raise PackageIndexError(f"{project}=={version}: {versions} on the package index ({index_url()})")
    return fetch(project, name, dest_dir, files=files)
