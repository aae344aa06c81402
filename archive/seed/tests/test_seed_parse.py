"""The reply parser: well-formed replies in each accepted format, malformed ones, and the
parsing policies (policies/) switched on and off."""

import os

import pytest

from policies import Policies
from policies.python_as_shell_refusal import looks_like_python
from reply_parser import parse_reply

SEED = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def kinds(acts):
    return [a["kind"] for a in acts]


def test_search_replace_block_with_path_line():
    reply = "Fix:\ncalc.py\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n"
    assert parse_reply(reply) == [{"kind": "edit", "path": "calc.py", "search": ["    return a - b"],
                                   "replace": ["    return a + b"]}]


def test_aider_style_blocks_inside_a_fence_and_path_reused():
    reply = ("src/calc.py\n```python\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n"
             "<<<<<<< SEARCH\ny = 1\n=======\ny = 2\n>>>>>>> REPLACE\n```\n\nSUBMIT\n")
    acts = parse_reply(reply)
    assert kinds(acts) == ["edit", "edit", "submit"]
    assert [a["path"] for a in acts[:2]] == ["src/calc.py", "src/calc.py"]
    assert acts[1]["replace"] == ["y = 2"]


def test_bash_block_and_console_prompt_stripped():
    acts = parse_reply("Let me look.\n```bash\n$ grep -n add calc.py\n```\n")
    assert acts == [{"kind": "bash", "cmd": "grep -n add calc.py"}]


def test_untagged_one_line_command_is_bash_but_untagged_prose_code_is_not():
    assert kinds(parse_reply("```\nls -la\n```")) == ["bash"]
    assert parse_reply("```\nresult = add(1, 2)\n```") == []


def test_whole_file_after_path_line_or_in_fence_info():
    acts = parse_reply("**calc.py**\n```python\ndef add(a, b):\n    return a + b\n```\n")
    assert acts == [{"kind": "write", "path": "calc.py", "content": "def add(a, b):\n    return a + b\n"}]
    assert parse_reply("```python calc.py\nX = 1\n```")[0]["path"] == "calc.py"


def test_sentence_naming_one_existing_file_before_a_code_block(tmp_path):
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    reply = "Here is the corrected `calc.py`:\n\n```python\ndef add(a, b):\n    return a + b\n```"
    assert parse_reply(reply, str(tmp_path))[0]["path"] == "calc.py"
    # output blocks are never taken as file contents
    assert parse_reply("Running calc.py gives:\n```text\nTraceback\n```", str(tmp_path)) == []


def test_search_replace_after_a_sentence_naming_an_existing_file(tmp_path):
    (tmp_path / "calc.py").write_text("x = 1\n")
    reply = "In `calc.py`, change x:\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE"
    assert parse_reply(reply, str(tmp_path))[0]["path"] == "calc.py"


def test_loose_block_resembling_a_shown_file_is_its_rewrite(tmp_path):
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n")
    reply = "```python\ndef add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n```"
    acts = parse_reply(reply, str(tmp_path), focus=["calc.py"])
    assert kinds(acts) == ["write"] and acts[0]["path"] == "calc.py"
    assert parse_reply("```python\nprint('hi')\n```", str(tmp_path), focus=["calc.py"]) == []


def test_submit_line_variants():
    for reply in ("SUBMIT", "Done.\n**SUBMIT**", "`SUBMIT`", "```\nSUBMIT\n```"):
        assert kinds(parse_reply(reply)) == ["submit"], reply
    assert parse_reply("I will SUBMIT when done.") == []


@pytest.mark.parametrize("reply", [
    "calc.py\n<<<<<<< SEARCH\nx = 1\n>>>>>>> REPLACE\n",  # no =======
    "calc.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n",  # no >>>>>>> REPLACE
    "<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE",  # no path
    "calc.py\n```python\ndef f():\n    pass\n",  # fence not closed
    "```diff\n--- a/x.py\n+++ b/x.py\n```",  # unified diff
])
def test_malformed_pieces_become_errors(reply):
    acts = parse_reply(reply)
    assert kinds(acts) == ["error"] and acts[0]["msg"]  # the message is for the model: any wording


def test_prose_only_reply_has_no_action():
    assert parse_reply("I think the bug is in the add function. Let me think more about it.") == []
    assert parse_reply("") == []


def test_the_prompts_themselves_parse_to_no_action():
    """Small models parrot the prompts; a parroted prompt must never do anything."""
    folder = os.path.join(SEED, "prompts")
    for name in os.listdir(folder):
        with open(os.path.join(folder, name)) as f:
            assert parse_reply(f.read()) == [], name


def test_python_in_a_bash_block_is_recognised():
    assert looks_like_python("def add(a, b):\n    return a + b")
    assert looks_like_python("import os")
    assert not looks_like_python("python3 -c 'import os'")


def off(name):
    return Policies({name: {"enabled": False}})


def test_bare_command_policy():
    assert kinds(parse_reply("```\nls -la\n```", policies=off("bare_command"))) == []
    assert kinds(parse_reply("```\nls\nls\nls\nls\n```")) == []  # more lines than max_lines
    wide = Policies({"bare_command": {"max_lines": 4}})
    assert kinds(parse_reply("```\nls\nls\nls\nls\n```", policies=wide)) == ["bash"]


def test_named_file_block_policy(tmp_path):
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    reply = "Here is the corrected `calc.py`:\n\n```python\ndef add(a, b):\n    return a + b\n```"
    assert parse_reply(reply, str(tmp_path), policies=off("named_file_block")) == []
    reply = "In `calc.py`, change x:\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE"
    assert kinds(parse_reply(reply, str(tmp_path), policies=off("named_file_block"))) == ["error"]


def test_loose_block_rewrite_policy(tmp_path):
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n")
    reply = "```python\ndef add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n```"
    assert parse_reply(reply, str(tmp_path), ["calc.py"], off("loose_block_rewrite")) == []
    strict = Policies({"loose_block_rewrite": {"min_similarity": 0.99}})
    assert parse_reply(reply, str(tmp_path), ["calc.py"], strict) == []
    short = "```python\ndef add(a, b):\n    return a + b\n```"  # under min_length of the file
    assert parse_reply(short, str(tmp_path), ["calc.py"]) == []
