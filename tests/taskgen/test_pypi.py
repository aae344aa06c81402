"""`bench gen --sdist NAME==VERSION` fetches the sdist from the package index as a plain file
(PEP 691 JSON listing + sha256), never with `pip download`, which would run the package's build
backend on the host. A local index server stands in for PyPI (nothing leaves the machine)."""

from __future__ import annotations

import hashlib
import http.server
import json
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from taskgen_cli import selfcoder  # noqa: E402

# an sdist whose build backend, if anything ran it on the host, leaves a marker there
SETUP_PY = "import pathlib\npathlib.Path({marker!r}).write_text('setup.py ran on the host')\n" \
           "from setuptools import setup\nsetup(name='minicalc', version='0.1.0')\n"


@pytest.fixture
def index(tmp_path):
    """A PEP 691 index at a local URL: `files[name] = bytes`, `hashes[name]` overrides the published sha256."""
    state: dict = {"files": {}, "hashes": {}}

    class Index(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the handler's API
            if self.path == "/minicalc/":
                body = json.dumps({"files": [
                    {"filename": name, "url": f"/files/{name}",
                     "hashes": {"sha256": state["hashes"].get(name, hashlib.sha256(data).hexdigest())}}
                    for name, data in state["files"].items()]}).encode()
            elif self.path.startswith("/files/") and self.path[7:] in state["files"]:
                body = state["files"][self.path[7:]]
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_port}"
    yield state
    server.shutdown()
    server.server_close()


def test_an_sdist_from_the_index_builds_tasks_and_none_of_its_code_runs_on_the_host(
        tmp_path, caches, make_sdist, index, monkeypatch):
    marker = tmp_path / "setup-ran"
    archive = make_sdist(lambda root: (root / "setup.py").write_text(SETUP_PY.format(marker=str(marker))))
    index["files"]["minicalc-0.1.0.tar.gz"] = archive.read_bytes()
    monkeypatch.setenv("SELFCODER_PYPI_SIMPLE", index["url"])
    res = selfcoder("bench", "gen", "--sdist", "minicalc==0.1.0", "--count", "1", "--seed", "1",
                    "--out", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out" / "tasks.jsonl").read_text().count("\n") == 1
    assert not marker.exists(), "the sdist's setup.py ran on the host"
    cached = Path(caches["SELFCODER_SDIST_CACHE"]) / "minicalc-0.1.0" / "minicalc-0.1.0.tar.gz"
    assert cached.read_bytes() == archive.read_bytes()


def test_a_file_whose_hash_is_not_the_published_one_is_refused(tmp_path, caches, make_sdist, index, monkeypatch):
    index["files"]["minicalc-0.1.0.tar.gz"] = make_sdist().read_bytes()
    index["hashes"]["minicalc-0.1.0.tar.gz"] = "0" * 64
    monkeypatch.setenv("SELFCODER_PYPI_SIMPLE", index["url"])
    res = selfcoder("bench", "gen", "--sdist", "minicalc==0.1.0", "--out", str(tmp_path / "out"))
    assert res.returncode != 0 and "sha256" in res.stderr and "Traceback" not in res.stderr
    assert not list(Path(caches["SELFCODER_SDIST_CACHE"]).rglob("*.tar.gz")), "a bad file was cached"


def test_an_unknown_version_or_an_index_that_does_not_answer_is_one_line(tmp_path, caches, make_sdist, index,
                                                                          monkeypatch):
    index["files"]["minicalc-0.1.0.tar.gz"] = make_sdist().read_bytes()
    monkeypatch.setenv("SELFCODER_PYPI_SIMPLE", index["url"])
    res = selfcoder("bench", "gen", "--sdist", "minicalc==9.9", "--out", str(tmp_path / "out"))
    assert res.returncode != 0 and "minicalc==9.9: no such version" in res.stderr and "Traceback" not in res.stderr
    monkeypatch.setenv("SELFCODER_PYPI_SIMPLE", "http://127.0.0.1:9")  # nothing listens there
    res = selfcoder("bench", "gen", "--sdist", "minicalc==0.1.0", "--out", str(tmp_path / "out"))
    assert res.returncode != 0 and "cannot fetch" in res.stderr and "Traceback" not in res.stderr
