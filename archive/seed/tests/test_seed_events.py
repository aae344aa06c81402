"""The events channel (events.py, README.md "Events"): with SELFCODER_EVENTS set, every event
is one JSON line appended to that file, and nothing but the agent's own errors goes to stdout;
without it, events are `@@selfcoder {json}` lines on stdout. Exactly one exit event, last,
whatever happens: many megabytes of command output, an exception, SIGTERM."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from seed_cases import FIX, LOOP, calc_repo, task
from seed_fake_model import SEED, FakeModel, read_events, solve

LOUD = "```bash\nhead -c 3000000 /dev/zero | tr '\\0' x; echo; echo done\n```"


@pytest.fixture
def repo(tmp_path):
    return calc_repo(tmp_path)


def test_events_go_to_the_events_file_and_megabytes_of_output_do_not_reach_stdout(repo):
    the_task = dict(task(), test_cmd="head -c 2000000 /dev/zero | tr '\\0' y; exit 1")
    run = solve(repo, [LOUD, LOUD.replace("echo done", "echo again"), FIX, "SUBMIT"], the_task)
    assert run.steps == ["bash", "bash", "edit", "submit"] and run.status == "submitted"
    assert [e["type"] for e in run.events[:2]] == ["localize", "step"]  # localised nothing: skipped
    assert [e["n"] for e in run.events[1:-1]] == [1, 2, 3, 4]
    assert "@@selfcoder" not in run.out and len(run.out) < 1000, run.out[:1000]
    assert "done" in run.sent(1) and len(run.sent(1)) < 20000  # output shortened for the model


def test_without_the_events_file_events_are_printed_on_stdout(repo):
    run = solve(repo, [FIX], task(), events_file=False)
    assert [e["type"] for e in run.events] == ["localize", "step", "exit"] and run.status == "submitted"
    assert all(line.startswith("@@selfcoder {") for line in run.out.splitlines())


def test_an_events_file_that_cannot_be_written_falls_back_to_stdout(repo, tmp_path):
    model = FakeModel([FIX])
    try:
        env = dict(os.environ, SELFCODER_LLM_SOCKET=model.path, SELFCODER_EVENTS=str(tmp_path / "no" / "e.jsonl"))
        task_path = os.path.join(model.dir, "task.json")
        with open(task_path, "w") as f:
            json.dump(task(), f)
        proc = subprocess.run([sys.executable, os.path.join(SEED, "main.py"), task_path], cwd=str(repo),
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
    finally:
        model.close()
    lines = [json.loads(x[len("@@selfcoder "):]) for x in proc.stdout.decode().splitlines()]
    assert proc.returncode == 0 and [e["type"] for e in lines] == ["localize", "step", "exit"]


def test_an_exception_still_writes_the_exit_event(repo):
    run = solve(repo, [FIX], ["not", "a", "task"])
    assert (run.code, run.status, run.events[-1]["steps"]) == (1, "error", 0)
    assert "Traceback" in run.out  # the internal error is shown, on stderr


def test_commands_do_not_inherit_the_events_file(repo):
    """A nested agent (the repository's own tests running a scaffold) must not write into ours."""
    run = solve(repo, ['```bash\necho "events=[$SELFCODER_EVENTS]"\n```', FIX], task(), config=LOOP)
    assert "events=[]" in run.sent(1) and run.steps == ["bash", "edit+submit"]


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_sigterm_during_a_command_ends_the_run_at_once_with_an_exit_event(repo):
    """Before the fix, the command's timer thread kept the agent alive until the command's
    timeout (here 60 s), and the command ran on meanwhile."""
    model = FakeModel([FIX])
    events_path = os.path.join(model.dir, "events.jsonl")
    try:
        the_task = dict(task(time_limit_s=60), test_cmd="sleep 60 & echo $! > sleeper.pid; wait")
        task_path = os.path.join(model.dir, "task.json")
        with open(task_path, "w") as f:
            json.dump(the_task, f)
        env = dict(os.environ, SELFCODER_LLM_SOCKET=model.path, SELFCODER_EVENTS=events_path)
        proc = subprocess.Popen([sys.executable, os.path.join(SEED, "main.py"), task_path], cwd=str(repo),
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pid_file = repo / "sleeper.pid"
        for _ in range(200):
            if pid_file.exists() and pid_file.read_text().strip():
                break
            time.sleep(0.05)
        sleeper = int(pid_file.read_text())
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=15)
        events = read_events(events_path)
    finally:
        model.close()
    assert code == 1 and [e["type"] for e in events] == ["exit"] and events[0]["status"] == "error"
    time.sleep(0.2)
    assert not _alive(sleeper)
    assert model.requests == []
