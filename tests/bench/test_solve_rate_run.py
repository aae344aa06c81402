"""bench/solve_rate.py end to end on real bench tasks: real sandboxes, real Docker, real git, real eval.

The models are the allowed stand-ins: selfcoder's scripted model (through litellm, in process) and,
for mini-swe-agent (its own venv and process, its own litellm over HTTP), a local server replaying
fixed replies (replay_server.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from replay_server import ReplayServer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import solve_rate  # noqa: E402
from e2e_replies import search_replace  # noqa: E402
from solve_rate_mini import LABEL  # noqa: E402

from selfcoder.sandbox.docker_backend import docker_available  # noqa: E402

MEDIAN_OLD = "    return ordered[len(ordered) // 2]"
MEDIAN_NEW = ("    mid = len(ordered) // 2\n    if len(ordered) % 2 == 0:\n"
              "        return (ordered[mid - 1] + ordered[mid]) / 2\n    return ordered[mid]")
MEDIAN_FIX = search_replace("summary.py", MEDIAN_OLD, MEDIAN_NEW)
LEAP_OLD = "    return year % 4 == 0 or year % 100 != 0 or year % 400 == 0"
LEAP_FIX = search_replace("calendar_utils.py", LEAP_OLD, "    return year % 4 == 0 and year % 100 != 0 or year % 400 == 0")


@pytest.fixture
def bench_env(tmp_path, monkeypatch, sandbox_root):
    monkeypatch.setenv("SELFCODER_CONFIG", str(tmp_path / "no-user-config.toml"))
    return tmp_path


def scripted(path: Path, *replies: str) -> str:
    path.write_text(yaml.safe_dump({"replies": list(replies)}))
    return f"scripted/{path}"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = solve_rate.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_leap_fix_matches_the_task():  # the scripted reply below must fit the task's code as it is
    source = (ROOT / "bench" / "tasks" / "leap_year" / "repo" / "calendar_utils.py").read_text()
    assert LEAP_OLD in source
    assert MEDIAN_OLD in (ROOT / "bench" / "tasks" / "median" / "repo" / "summary.py").read_text()


def test_resume_goes_on_where_a_killed_run_stopped(bench_env, capsys):
    out = bench_env / "results"
    model = scripted(bench_env / "model.yaml", MEDIAN_FIX)
    common = ["--systems", "selfcoder", "--model", model, "--max-steps", "3", "--time-limit", "120", "--out", str(out)]
    code, stdout, err = run([*common, "--tasks", "median"], capsys)
    assert code == 0, err
    assert "bugfix-median" in stdout and "selfcoder: solved 1/1" in stdout
    (out / "results" / "selfcoder" / "bugfix-leap_year.tmp").write_text("{half a res")  # killed while saving

    # without --resume the same dir is refused; the rerun must not redo median: its only reply now fixes leap_year
    code, _, err = run([*common, "--tasks", "median", "leap_year"], capsys)
    assert code == 2 and err.startswith("error: ") and "--resume" in err and len(err.strip().splitlines()) == 1
    (bench_env / "model.yaml.sent.jsonl").unlink()
    scripted(bench_env / "model.yaml", LEAP_FIX)
    code, stdout, err = run([*common, "--tasks", "median", "leap_year", "--resume", "--json"], capsys)
    assert code == 0, err
    sent = (bench_env / "model.yaml.sent.jsonl").read_text().splitlines()
    assert len(sent) == 1 and "leap" in json.loads(sent[0])["messages"][-1]["content"].lower()
    report = json.loads(stdout[stdout.index("\n{") + 1:])
    assert [(t["task"], t["selfcoder"]["resolved"]) for t in report["tasks"]] == [
        ("bugfix-leap_year", True), ("bugfix-median", True)]
    assert report["systems"]["selfcoder"]["solved"] == 2
    assert json.loads((out / "report.json").read_text())["systems"] == report["systems"]
    preds = [json.loads(line) for line in (out / "predictions-selfcoder.jsonl").read_text().splitlines()]
    assert {p["instance_id"] for p in preds} == {"bugfix-median", "bugfix-leap_year"}
    assert all("+++ b/" in p["model_patch"] for p in preds)

    # a run made before --mini-time-limit existed resumes (mini's cap was --time-limit); another cap would not
    saved = json.loads((out / "run.json").read_text())
    assert saved.pop("mini_time_limit_s") == 120
    (out / "run.json").write_text(json.dumps(saved))
    code, _, err = run([*common, "--tasks", "median", "leap_year", "--resume"], capsys)
    assert code == 0, err
    code, _, err = run([*common, "--tasks", "median", "--resume", "--mini-time-limit", "600"], capsys)
    assert code == 2 and "mini_time_limit_s 120" in err

    # resuming with other caps would mix two configurations in one table
    code, _, err = run([*common[:-4], "--max-steps", "5", "--time-limit", "120", "--out", str(out), "--resume"], capsys)
    assert code == 2 and "max_steps 3" in err and "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["--tasks", "no_such_task"], "unknown task(s) no_such_task"),
    (["--systems", "selfcoder,swe-agent"], "unknown system(s) swe-agent"),
    (["--split", "held_out"], "split.json does not exist"),
    (["--attempts", "0"], "--attempts and --max-steps must be at least 1"),
    (["--mini-time-limit", "0"], "--mini-time-limit above 0"),
    (["--systems", "selfcoder,variant"], "the variant system needs its settings"),
    (["--variant", "agent.max_temperature=0"], "--variant needs `variant` in --systems"),
    (["--systems", "variant", "--variant", "agent.max_steps=30"], "the benchmark sets it for every system (--max-steps)"),
    (["--systems", "variant", "--variant", "model.name=gpt-4o"], "the benchmark sets it for every system (--model)"),
    (["--systems", "variant", "--variant", "agent.attempts=3"], "the benchmark sets it for every system (--attempts)"),
    (["--systems", "variant", "--variant", "local_model.threads=1"], "shares the one model server"),
    (["--systems", "variant", "--variant", "max_temperature=0"], "give SECTION.KEY=VALUE"),
    (["--systems", "variant", "--variant", "agent.max_temperature=hot"], "--variant: agent.max_temperature = 'hot'"),
    (["--systems", "variant", "--variant", "agent.no_such=1"], "unknown setting 'agent.no_such'"),
])
def test_mistakes_are_one_line_errors(bench_env, capsys, argv, message):
    code, _, err = run([*argv, "--out", str(bench_env / "out")], capsys)
    assert code == 2 and err.startswith("error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_variant_runs_with_its_settings_beside_the_baseline_on_each_task(bench_env, capsys):
    """--systems selfcoder,variant: the same tasks, back to back, the variant with its setting changed."""
    out = bench_env / "out"
    model = scripted(bench_env / "sc.yaml", MEDIAN_FIX)
    code, stdout, err = run(["--systems", "selfcoder,variant", "--variant", "agent.attempt_temperatures=[0.5]",
                             "--tasks", "median", "--model", model, "--max-steps", "3", "--time-limit", "120",
                             "--out", str(out), "--json"], capsys)
    assert code == 0, err
    report = json.loads(stdout[stdout.index("\n{") + 1:])
    assert report["config"]["variant"] == ["agent.attempt_temperatures=[0.5]"]
    assert report["paired"]["first"] == "selfcoder" and report["paired"]["second"] == "variant"
    assert report["tasks"][0]["selfcoder"]["resolved"] and report["tasks"][0]["variant"]["resolved"]
    temperatures = {system: json.loads(next((out / "runs" / system).rglob("result.json")).read_text())["sampling"]["temperature"]
                    for system in ("selfcoder", "variant")}
    assert temperatures == {"selfcoder": 0.0, "variant": 0.5}
    sent = [json.loads(line)["params"]["temperature"] for line in (bench_env / "sc.yaml.sent.jsonl").read_text().splitlines()]
    assert sorted(sent) == [0.0, 0.5]
    # resuming with another variant is refused: it would mix two configurations in one table
    code, _, err = run(["--systems", "selfcoder,variant", "--variant", "agent.attempt_temperatures=[0.9]", "--tasks",
                        "median", "--model", model, "--max-steps", "3", "--time-limit", "120", "--out", str(out),
                        "--resume"], capsys)
    assert code == 2 and "variant" in err and len(err.strip().splitlines()) == 1


def test_the_next_run_does_not_pay_for_a_reply_the_last_one_gave_up_on():
    """A non-streamed client that gives up (mini at its time limit) cannot stop the server's reply;
    solve_rate waits for the server between runs, so the next run's clock starts on an idle server."""
    import local_solve

    with ReplayServer([("a runaway reply", 2.0), "1"], api_key="k", one_at_a_time=True) as server:
        def give_up():
            request = urllib.request.Request(f"{server.api_base}/chat/completions", data=b'{"messages": []}',
                                             headers={"Authorization": "Bearer k"})
            with pytest.raises(OSError):  # timed out
                urllib.request.urlopen(request, timeout=0.3)

        give_up()
        lease = SimpleNamespace(state=SimpleNamespace(api_base=server.api_base, api_key="k"))
        t0 = time.monotonic()
        waited = local_solve.wait_until_idle(lease)
        assert 1.0 < waited <= time.monotonic() - t0 + 0.1  # the rest of the abandoned reply
    assert len(server.requests) == 2 and server.requests[1]["max_tokens"] == 1
    assert local_solve.wait_until_idle(lease) is None  # the server went away: the next run will say so


def test_no_local_model_installed_is_one_line(bench_env, capsys, monkeypatch):
    monkeypatch.setenv("SELFCODER_CACHE_DIR", str(bench_env / "cache"))  # no server state, no model here
    (bench_env / "no-user-config.toml").write_text(f'[local_model]\nmodels_dir = "{bench_env / "models"}"\n')
    code, _, err = run(["--systems", "selfcoder", "--tasks", "median", "--out", str(bench_env / "out")], capsys)
    assert code == 2 and "the local model is not installed" in err and len(err.strip().splitlines()) == 1


def test_mini_without_docker_is_one_line(bench_env, capsys, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{bench_env / 'no-docker.sock'}")
    code, _, err = run(["--systems", "mini", "--tasks", "median", "--model", scripted(bench_env / "m.yaml", "x"),
                        "--out", str(bench_env / "out")], capsys)
    assert code == 2 and "mini-swe-agent runs its commands in Docker" in err and "--systems selfcoder" in err
    assert len(err.strip().splitlines()) == 1


MINI_EDIT = f"""THOUGHT: fix the median.

```mswea_bash_command
touch {{probe}} && python3 - <<'PY'
import pathlib
p = pathlib.Path("summary.py")
p.write_text(p.read_text().replace({MEDIAN_OLD!r}, {MEDIAN_NEW!r}))
PY
```"""
MINI_SUBMIT = "THOUGHT: done.\n\n```mswea_bash_command\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\n```"


def mini_containers() -> set[str]:
    """Every container mini's runs made that still exists (any run's: compare before and after)."""
    out = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={LABEL}"], capture_output=True, text=True)
    return set(out.stdout.split())


@pytest.mark.docker
@pytest.mark.skipif(docker_available() is not None, reason=f"docker unavailable: {docker_available()}")
def test_both_systems_solve_one_task_side_by_side(bench_env, capsys):
    probe = Path(f"/tmp/selfcoder-bench-probe-{uuid.uuid4().hex[:8]}")  # written by a model command
    before = mini_containers()
    with ReplayServer([MINI_EDIT.format(probe=probe), MINI_SUBMIT], api_key="replay-key") as server:
        code, stdout, err = run(["--tasks", "median", "--model", scripted(bench_env / "sc.yaml", MEDIAN_FIX),
                                 "--max-steps", "4", "--time-limit", "120", "--out", str(bench_env / "out"),
                                 "--mini-model", "openai/replay", "--mini-api-base", server.api_base,
                                 "--mini-api-key", "replay-key", "--json"], capsys)
    assert code == 0, err
    report = json.loads(stdout[stdout.index("\n{") + 1:])
    cell = report["tasks"][0]
    assert cell["selfcoder"]["resolved"] and cell["mini"]["resolved"], cell
    assert cell["mini"]["steps"] == 2 and cell["mini"]["exit"] == "Submitted" and cell["mini"]["tokens"] > 0
    assert report["build"]["mini_swe_agent"] == "2.4.6"
    assert report["paired"]["both"] == 1 and report["paired"]["mcnemar_p"] == 1.0
    assert "[1/1] median" in stdout and "selfcoder: solved 1/1" in stdout and "mini: solved 1/1" in stdout
    # mini ran with its own shipped config, against the model server it was pointed at
    assert len(server.requests) == 2 and "mswea_bash_command" in server.requests[0]["messages"][0]["content"]
    assert server.requests[0]["temperature"] == 0
    assert server.requests[0]["max_tokens"] == 2048  # the same cap per reply as selfcoder's (model.max_tokens)
    run_files = (bench_env / "out" / "runs" / "mini").rglob("*")
    assert not [f for f in run_files if f.is_file() and "replay-key" in f.read_text(errors="replace")]  # no API key kept
    # the model's command ran in the container, not here, and the container is gone
    assert not probe.exists()
    assert not mini_containers() - before  # this run's containers are gone (others' are not ours to judge)
    mini_row = json.loads((bench_env / "out" / "results" / "mini" / "bugfix-median.json").read_text())
    assert "+    mid = len(ordered) // 2" in mini_row["patch"] and mini_row["outcome"] == "resolved"
    trajectory = json.loads((bench_env / "out" / "runs" / "mini" / "bugfix-median" / "trajectory.json").read_text())
    assert "<returncode>0</returncode>" in trajectory["messages"][3]["content"]  # touch + edit ran fine in there


@pytest.mark.docker
@pytest.mark.skipif(docker_available() is not None, reason=f"docker unavailable: {docker_available()}")
def test_mini_is_held_to_the_time_limit_and_its_patch_so_far_counts(bench_env, capsys):
    # mini itself checks its time limit only between steps; its second model call here lasts 10 minutes
    probe = Path(f"/tmp/selfcoder-bench-probe-{uuid.uuid4().hex[:8]}")
    before = mini_containers()
    with ReplayServer([MINI_EDIT.format(probe=probe), (MINI_SUBMIT, 600)], api_key="k") as server:
        started = time.monotonic()
        code, stdout, err = run(["--systems", "mini", "--tasks", "median", "--model", scripted(bench_env / "m.yaml", "x"),
                                 "--max-steps", "5", "--time-limit", "600", "--mini-time-limit", "15",
                                 "--out", str(bench_env / "out"),
                                 "--mini-model", "openai/replay", "--mini-api-base", server.api_base,
                                 "--mini-api-key", "k"], capsys)
        took = time.monotonic() - started
    assert code == 0, err
    row = json.loads((bench_env / "out" / "results" / "mini" / "bugfix-median.json").read_text())
    assert row["exit"] == "TimeExceeded" and len(server.requests) == 2
    assert 15 <= row["seconds"] and took < 300, (row["seconds"], took)  # not the 600 s of the model call
    assert row["resolved"] and "+    mid = len(ordered) // 2" in row["patch"]  # the edit made before the deadline
    assert not mini_containers() - before  # this run's containers are gone (others' are not ours to judge)


@pytest.mark.docker
@pytest.mark.skipif(docker_available() is not None, reason=f"docker unavailable: {docker_available()}")
def test_a_container_a_killed_run_left_is_removed_by_the_next_run(bench_env):
    """A bench run killed with -9 cannot remove mini's container; its owner labels name the dead
    process, so the next run's Docker check removes it (a live owner's container is kept)."""
    import solve_rate_mini

    from selfcoder.sandbox.image import DEFAULT_IMAGE

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live_args = solve_rate_mini.run_args("live-owner")
    dead_args = [a.replace(f"pid={__import__('os').getpid()}", f"pid={dead.pid}") for a in solve_rate_mini.run_args("dead-owner")]
    made = {}
    for name, args in (("live", live_args), ("dead", dead_args)):
        made[name] = subprocess.run(["docker", "run", "-d", *args, DEFAULT_IMAGE, "sleep", "300"],
                                    capture_output=True, text=True, check=True).stdout.strip()[:12]
    try:
        solve_rate_mini.check_docker(DEFAULT_IMAGE)
        left = mini_containers()
        assert made["dead"] not in left and made["live"] in left
    finally:
        subprocess.run(["docker", "rm", "-f", *made.values()], capture_output=True)
