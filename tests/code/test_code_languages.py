"""Grammars other than Python, and proof that none of them needs the network."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from selfcoder.code import build_repo_map
from selfcoder.code.languages import language_status

SOURCES = {
    "web/app.js": "export class Store extends Base {\n  get(key, fallback = null) { return 1 }\n}\n"
                  "function render(store) { return '' }\nconst handler = async (req, res) => { }\n",
    "web/api.ts": "interface Api { fetch(id: number): Promise<string> }\n"
                  "export function call<T>(x: T): T { return x }\n",
    "geo/point.go": "package geo\n\ntype Point struct {\n\tX, Y float64\n}\n\n"
                    "func (p *Point) Norm() float64 { return 0 }\n\nfunc New(x, y float64) *Point { return nil }\n",
    "src/lib.rs": "pub struct Parser { pos: usize }\n\nimpl Parser {\n    pub fn next(&mut self) -> Option<char> { None }\n}\n\n"
                  "pub fn parse(input: &str) -> Result<Parser, String> { Err(String::new()) }\n",
}

EXPECTED = {
    "web/app.js": ["class Store extends Base", "  get(key, fallback = null)", "function render(store)",
                   "const handler = async (req, res) =>"],
    "web/api.ts": ["interface Api", "  fetch(id: number): Promise<string>", "function call<T>(x: T): T"],
    "geo/point.go": ["type Point struct", "func (p *Point) Norm() float64", "func New(x, y float64) *Point"],
    "src/lib.rs": ["pub struct Parser", "impl Parser", "  pub fn next(&mut self) -> Option<char>",
                   "pub fn parse(input: &str) -> Result<Parser, String>"],
}


def make_tree(root: Path) -> Path:
    for rel, text in SOURCES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.parametrize("path", sorted(SOURCES))
def test_signatures_in_other_languages(tmp_path: Path, path: str):
    m = build_repo_map(make_tree(tmp_path), "")
    rendered = ["  " * d.depth + d.signature for d in m.definitions[path]]
    assert rendered == EXPECTED[path]


def test_ranking_works_across_languages(tmp_path: Path):
    m = build_repo_map(make_tree(tmp_path), "Norm() of a zero Point panics")
    assert m.ranked_files[0] == "geo/point.go"


def test_language_without_a_local_grammar_degrades_to_a_path_line(tmp_path: Path):
    (tmp_path / "Main.java").write_text("class Main { void run() {} }\n")
    m = build_repo_map(tmp_path, "run")
    assert m.ranked_files == ["Main.java"] and m.text == "Main.java"
    if language_status("java") is None:
        pytest.skip("tree-sitter-language-pack has a java parser on disk here; nothing to degrade")
    assert "would download" in m.skipped_languages["java"]


def test_language_pack_grammars_when_cached_on_disk(tmp_path: Path):
    import tree_sitter_language_pack as pack

    cached = [lang for lang in ("java", "c", "ruby", "bash") if lang in pack.downloaded_languages()]
    if not cached:
        pytest.skip("tree-sitter-language-pack 1.x keeps no parsers in the wheel and downloads them on first use; "
                    "none is cached here, and nothing may download at run time")
    assert language_status(cached[0]) is None


def test_no_network_needed(tmp_path: Path):
    """Every wheel grammar parses inside a network namespace with no network at all."""
    if shutil.which("bwrap") is None:
        pytest.fail("bubblewrap is required (scripts/setup installs it)")
    make_tree(tmp_path)
    (tmp_path / "m.py").write_text("def f(a):\n    pass\n")
    code = ("import sys; from selfcoder.code import build_repo_map; "
            "m = build_repo_map(sys.argv[1], ''); print(sum(len(v) for v in m.definitions.values()))")
    res = subprocess.run(["bwrap", "--dev-bind", "/", "/", "--unshare-net", sys.executable, "-c", code, str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert int(res.stdout.strip()) == sum(len(v) for v in EXPECTED.values()) + 1
