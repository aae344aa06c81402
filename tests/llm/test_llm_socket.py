"""The OpenAI-compatible endpoint on a unix socket, called from a separate process the way a
sandboxed agent calls it: no API key on the client side, the run's budget and log apply."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from llm_helpers import UNIX_CLIENT, make_settings, read_jsonl, scripted, user

from selfcoder.core.errors import ModelError
from selfcoder.llm import Gateway, TrajectoryLog, read_trajectory


def client(sock, method: str, path: str, *bodies: dict) -> list[dict]:
    """Run the stdlib client in another process, with no API keys in its environment."""
    env = {k: v for k, v in os.environ.items() if "API_KEY" not in k}
    args = [sys.executable, str(UNIX_CLIENT), str(sock), method, path]
    if bodies:
        args.append("\x1e".join(json.dumps(b) for b in bodies))
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def chat(text: str, **extra) -> dict:
    return {"model": "whatever-the-agent-asks", "messages": user(text), **extra}


@pytest.fixture
def run(script, tmp_path):
    def start(replies, **sections):
        path = script(replies)
        log = TrajectoryLog(tmp_path / "run" / "trajectory.jsonl")
        gw = Gateway(make_settings(scripted(path), **sections), "run-sock", log, retry_base_delay_s=0.001)
        return gw, path

    return start


def test_chat_completion_from_another_process(run, tmp_path):
    gw, path = run(["hello from the model", "second"])
    sock = tmp_path / "io" / "llm.sock"
    with gw, gw.serve(sock):
        assert stat.S_ISSOCK(os.stat(sock).st_mode) and stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        first, second = client(sock, "POST", "/v1/chat/completions", chat("hi", temperature=0.3, max_tokens=40), chat("again"))
    assert not sock.exists()  # removed when the run ends
    assert first["status"] == 200
    body = first["body"]
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"] == "hello from the model"
    assert body["choices"][0]["message"]["role"] == "assistant" and body["model"] == f"scripted/{path}"
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"] > 0
    assert second["body"]["choices"][0]["message"]["content"] == "second"
    assert gw.usage.calls == 2 and gw.usage.total_tokens == body["usage"]["total_tokens"] + second["body"]["usage"]["total_tokens"]
    sent = read_jsonl(path.with_name(path.name + ".sent.jsonl"))
    assert sent[0]["messages"] == user("hi") and sent[0]["params"]["temperature"] == 0.3
    records = read_trajectory(tmp_path / "run" / "trajectory.jsonl")
    assert records[0]["requested_model"] == "whatever-the-agent-asks"  # recorded, not obeyed
    assert [(r["type"], r.get("source")) for r in records[:4]] == [
        ("llm_request", "socket"), ("llm_response", "socket"), ("llm_request", "socket"), ("llm_response", "socket")]  # fmt: skip


def test_budget_exceeded_is_429_with_type_budget_exceeded(run, tmp_path):
    gw, _ = run(["one", "two"], budget={"max_calls": 1})
    sock = tmp_path / "llm.sock"
    with gw, gw.serve(sock):
        ok, refused = client(sock, "POST", "/v1/chat/completions", chat("a"), chat("b"))
    assert ok["status"] == 200
    assert refused["status"] == 429 and refused["body"]["error"]["type"] == "budget_exceeded"
    assert "1 of 1 calls" in refused["body"]["error"]["message"]
    assert gw.status == "budget_exceeded"


def test_model_error_is_502_and_bad_requests_are_400(run, tmp_path):
    gw, _ = run([{"error": "auth", "message": "key rejected"}])
    sock = tmp_path / "llm.sock"
    with gw, gw.serve(sock):
        err, = client(sock, "POST", "/v1/chat/completions", chat("a"))
        no_messages, streaming = client(sock, "POST", "/v1/chat/completions", {"model": "m"}, chat("s", stream=True))
        missing, = client(sock, "POST", "/v1/embeddings", {"input": "x"})
    assert err["status"] == 502 and err["body"]["error"]["type"] == "model_error"
    assert "key rejected" in err["body"]["error"]["message"] and gw.status == "model_error"
    assert no_messages["status"] == 400 and no_messages["body"]["error"]["type"] == "invalid_request_error"
    assert streaming["status"] == 400 and "stream" in streaming["body"]["error"]["message"]
    assert missing["status"] == 404


def test_models_and_usage_routes(run, tmp_path):
    gw, path = run(["x"])
    sock = tmp_path / "llm.sock"
    with gw, gw.serve(sock):
        client(sock, "POST", "/v1/chat/completions", chat("a"))
        models, = client(sock, "GET", "/v1/models")
        usage, = client(sock, "GET", "/v1/usage")
    assert models["body"]["data"][0]["id"] == f"scripted/{path}"
    assert usage["body"]["usage"]["calls"] == 1 and usage["body"]["status"] == "ok"
    assert usage["body"]["budget"]["max_calls"] == 60


def test_long_socket_path_and_stale_socket_file(run, tmp_path):
    gw, _ = run(["deep"])
    deep = tmp_path.joinpath(*["a-rather-long-directory-name"] * 5)
    deep.mkdir(parents=True)
    sock = deep / "llm.sock"
    assert len(str(sock)) > 108
    with gw, gw.serve(sock):
        # the client reaches it through a short symlinked directory, as a bind mount would
        short = tmp_path / "s"
        short.symlink_to(deep)
        reply, = client(short / "llm.sock", "POST", "/v1/chat/completions", chat("a"))
        assert reply["body"]["choices"][0]["message"]["content"] == "deep"
    assert not sock.exists()
    # a socket file left by a killed run is replaced; a regular file is not
    import socket as s

    stale = s.socket(s.AF_UNIX)
    stale.bind(str(tmp_path / "stale.sock"))
    stale.close()
    gw2, _ = run(["x"])
    with gw2, gw2.serve(tmp_path / "stale.sock"):
        pass
    (tmp_path / "file.sock").write_text("not a socket")
    with pytest.raises(ModelError, match="not a socket"):
        with gw2.serve(tmp_path / "file.sock"):
            pass


def test_socket_is_removed_when_the_gateway_closes(run, tmp_path):
    gw, _ = run(["x"])
    sock = tmp_path / "llm.sock"
    ctx = gw.serve(sock)
    ctx.__enter__()
    assert sock.exists()
    gw.close()  # the runner may close the gateway without leaving the with-block first
    assert not sock.exists()
    ctx.__exit__(None, None, None)
