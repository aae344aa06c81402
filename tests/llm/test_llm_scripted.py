"""The scripted model: replays replies in order through the real litellm path, records what
it was sent, and reports a malformed file or an exhausted script as one clear error."""

from __future__ import annotations

import subprocess
import sys

import pytest
from llm_helpers import read_jsonl, user

from selfcoder.core.errors import ModelError
from selfcoder.llm import scripted
from selfcoder.llm.litellm_setup import import_litellm


def call(path, text: str):
    litellm = import_litellm()
    return litellm.completion(model=f"scripted/{path}", messages=user(text), num_retries=0, max_tokens=50)


def test_replays_replies_in_order_and_records_requests(script):
    path = script(["first reply", {"content": "second reply", "usage": {"prompt_tokens": 7, "completion_tokens": 2}}])
    r1 = call(path, "hello")
    r2 = call(path, "again")
    assert r1.choices[0].message.content == "first reply"
    assert r2.choices[0].message.content == "second reply"
    assert (r2.usage.prompt_tokens, r2.usage.completion_tokens) == (7, 2)
    sent = scripted.sent_requests(path)
    assert [s["messages"][0]["content"] for s in sent] == ["hello", "again"]
    assert sent[0]["params"]["max_tokens"] == 50


def test_scripted_errors_raise_the_matching_litellm_exception(script):
    litellm = import_litellm()
    path = script([{"error": "rate_limit", "message": "slow down"}, {"error": "auth"}, {"error": "timeout"}, "ok"])
    with pytest.raises(litellm.RateLimitError, match="slow down"):
        call(path, "a")
    with pytest.raises(litellm.AuthenticationError):
        call(path, "b")
    with pytest.raises(litellm.Timeout):
        call(path, "c")
    assert call(path, "d").choices[0].message.content == "ok"


def test_running_out_of_replies_is_a_clear_error_not_a_hang(script):
    litellm = import_litellm()
    path = script(["only one"])
    call(path, "a")
    with pytest.raises(litellm.BadRequestError, match="no reply left"):
        call(path, "b")


def test_json_script_and_custom_record_path(script, tmp_path):
    path = script(["from json"], suffix=".json", record="sent/log.jsonl")
    assert call(path, "q").choices[0].message.content == "from json"
    assert read_jsonl(tmp_path / "sent" / "log.jsonl")[0]["messages"] == user("q")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("replies: [unclosed", "not valid YAML"),
        ("just a string", "'replies:' list"),
        ("replies: [{error: meltdown}]", "must be one of"),
        ("replies: [{content: a, error: timeout}]", "exactly one of"),
        ("replies: [42]", "must be a string or a mapping"),
        ("replies: []\nextra: 1", "unknown top-level keys"),
    ],
)
def test_malformed_script_is_one_line_model_error(tmp_path, text, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ModelError, match=fragment) as e:
        scripted.load_script(path)
    assert "\n" not in str(e.value) and str(path) in str(e.value)


def test_missing_script_file_is_one_line_model_error(tmp_path):
    with pytest.raises(ModelError, match="cannot read"):
        scripted.load_script(tmp_path / "nope.yaml")


def test_what_was_sent_is_readable_from_another_process(script):
    path = script(["r"])
    call(path, "cross-process")
    out = subprocess.run(
        [sys.executable, "-c", f"from selfcoder.llm.scripted import sent_requests; print(sent_requests({str(path)!r})[0]['messages'][0]['content'])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "cross-process"
