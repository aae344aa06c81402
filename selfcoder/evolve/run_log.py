"""What the diagnosis reads of one evaluation run: its verdict, the failing tests' output, the
trajectory as steps, the patch, the agent files it points to — and whether it failed for a
reason outside the agent's code (then it is no lesson).

A run's directory (`OUT/runs/<id>`, written by the runner) holds result.json, trajectory.jsonl
and patch.diff; its evaluation record (`OUT/instances/<id>.json`) holds the host's grading and
names the test log (`OUT/logs/<id>/test.log`). Everything is bounded and freed of what differs
between two runs of the same work (durations, object addresses), so a resumed search shows the
diagnosis model the same text as one never killed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

DURATION = re.compile(r"\b\d+(\.\d+)?\s?(s|sec|seconds|ms)\b")
ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")
AGENT_PATH = re.compile(r"/agent/([A-Za-z0-9_][A-Za-z0-9_./-]*\.[A-Za-z0-9]+)")
HEADER = re.compile(r"^_{3,} (.+?) _{3,}$", re.M)
CANARY = ".selfcoder-validate"  # the grader's own check tests: not the agent's business


def stable(text: str) -> str:
    return ADDRESS.sub("0x…", DURATION.sub("<t>", text))


def trim(text: str, chars: int) -> str:
    """`text` cut to about `chars`: its start and its end (the end says how it ended)."""
    text = text.strip()
    if len(text) <= chars:
        return text
    head = chars // 3
    return f"{text[:head]}\n[... {len(text) - chars} characters left out ...]\n{text[-(chars - head):]}"


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(errors="replace"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _events(run_dir: Path) -> list[dict]:
    try:
        lines = (run_dir / "trajectory.jsonl").read_text(errors="replace").splitlines()
    except OSError:
        return []
    events = []
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


@dataclass
class RunLog:
    run_dir: Path
    result: dict = field(default_factory=dict)  # result.json
    record: dict = field(default_factory=dict)  # the evaluation record (the host's grading)
    events: list[dict] = field(default_factory=list)

    @classmethod
    def read(cls, run_dir: str | Path) -> "RunLog":
        run_dir = Path(run_dir)
        record = _read_json(run_dir.parent.parent / "instances" / f"{run_dir.name}.json")
        return cls(run_dir, _read_json(run_dir / "result.json"), record, _events(run_dir))

    # -- no lesson ------------------------------------------------------------------------------
    def infra_failure(self) -> str | None:
        """Why the run failed for a reason outside the agent's code (the model server, the sandbox,
        the budget, a grading that could not run), or None: such a run is never a lesson."""
        if not self.result:
            return "no record of the run"
        agent, status = self.result.get("agent_status") or "", str(self.result.get("status") or "")
        message = trim(str(self.result.get("message") or ""), 200)
        if "model_error" in (agent, status):
            return f"the model could not be called: {message}"
        if status == "budget_exceeded" or self.record.get("run_status") == "budget_exceeded":
            return "the run's budget ran out"
        if status in ("error", "cancelled") and not agent:
            return f"the sandbox or the runner failed: {message}"
        if self.record.get("outcome") == "error":
            return f"the grading could not run: {trim(str(self.record.get('message') or ''), 200)}"
        return None

    # -- the verdict ----------------------------------------------------------------------------
    def verdict(self, chars: int = 4000) -> str:
        """The host's grading: outcome, message, the target tests that still fail with their output,
        the tests that broke."""
        grade = self.record.get("grade") or {}
        if not grade:
            return f"not graded ({self.record.get('outcome') or self.result.get('status') or 'unknown'})"
        lines = [f"{grade.get('outcome')}: {grade.get('message') or ''}".strip()]
        status = grade.get("tests_status") or {}
        still = (status.get("FAIL_TO_PASS") or {}).get("failure") or []
        broke = (status.get("PASS_TO_PASS") or {}).get("failure") or []
        output = self._test_output()
        if still:
            lines.append("Tests the fix should make pass, still failing:")
            lines += [f"- {t}" for t in still[:10]]
        if broke:
            lines.append("Tests that passed before and fail after the patch:")
            lines += [f"- {t}" for t in broke[:10]]
        shown = [s for s in (_section(output, t) for t in (still + broke)[:5]) if s]
        if shown:
            lines.append("Their output after the patch:\n" + "\n".join(shown))
        elif (still or broke) and output:
            lines.append("The test run after the patch (end):\n" + trim(
                "\n".join(x for x in output.splitlines() if CANARY not in x), 1500))
        return trim(stable("\n".join(lines)), chars)

    def _test_output(self) -> str:
        """The test runs after the patch, from the test log the record names."""
        name = (self.record.get("logs") or {}).get("test")
        if not name:
            return ""
        try:
            text = (self.run_dir.parent.parent / name).read_text(errors="replace")
        except OSError:
            return ""
        runs = re.split(r"^(?=\$ )", text, flags=re.M)
        after = [r.split("\n", 1)[-1] for r in runs if r.startswith("$ ") and "[after the patch" in r.split("\n", 1)[0]]
        return "\n".join(after) if after else text

    # -- the trajectory -------------------------------------------------------------------------
    def steps(self, chars: int = 6000) -> str:
        """The run as readable steps: each model reply, what the agent did, what it sent back."""
        entries: list[str] = []
        last_sent = None
        for e in self.events:
            kind = e.get("type")
            if kind == "llm_request":
                messages = e.get("messages") or []
                sent = messages[-1].get("content") if messages and isinstance(messages[-1], dict) else None
                if isinstance(sent, str) and sent != last_sent:
                    if len(messages) > 2:
                        entries.append(f"[agent → model] {trim(sent, 900)}")
                    else:  # a conversation's start: the task, as the task text says it
                        entries.append("[a fresh conversation: the task prompt again]" if last_sent else "[the task prompt]")
                    last_sent = sent
            elif kind == "llm_response":
                entries.append(f"[model] {trim(str(e.get('text') or ''), 700)}")
            elif kind == "agent_step":
                entries.append(f"[step {e.get('n')}: {e.get('action')}] {trim(str(e.get('detail') or ''), 300)}")
            elif kind == "llm_error":
                entries.append(f"[model error] {trim(str(e.get('error') or ''), 300)}")
            elif kind == "agent_exit" and "status" in e:
                entries.append(f"[agent ended: {e.get('status')}] {trim(str(e.get('message') or ''), 500)}")
            elif kind == "agent_exit" and (e.get("output_tail") or "").strip():
                entries.append(f"[agent process output, end] {trim(str(e['output_tail']), 1500)}")
        if not entries:
            return "(no trajectory)"
        text = stable("\n".join(entries))
        if len(text) <= chars:
            return text
        head, tail = entries[:2], []  # the start, and as many of the last entries as fit
        room = chars - sum(len(x) + 1 for x in head) - 60
        for entry in reversed(entries[2:]):
            if room - len(entry) - 1 < 0:
                break
            tail.insert(0, entry)
            room -= len(entry) + 1
        left = len(entries) - len(head) - len(tail)
        return stable("\n".join(head + [f"[... {left} entries left out ...]"] + tail))

    def patch(self, chars: int = 3000) -> str:
        try:
            text = (self.run_dir / "patch.diff").read_text(errors="replace")
        except OSError:
            text = ""
        return trim(text, chars) if text.strip() else "(empty)"

    def agent_files(self, files: list[str]) -> list[str]:
        """The scaffold's files (of `files`) the run points to: tracebacks and messages naming
        /agent/<file> (the innermost frame first), then the prompts of the steps' actions."""
        texts = [str(e.get(k) or "") for e in self.events for k in ("output_tail", "message", "error")]
        texts.append(str(self.result.get("message") or ""))
        named: list[str] = []
        for text in texts:
            for path in reversed(AGENT_PATH.findall(text)):
                if path in files and path not in named:
                    named.append(path)
        for e in self.events:
            if e.get("type") == "agent_step":
                for action in str(e.get("action") or "").split("+"):
                    prompt = f"prompts/{action}.txt"
                    if prompt in files and prompt not in named:
                        named.append(prompt)
        return named


def _section(output: str, test_id: str) -> str:
    """pytest's failure section of `test_id` (`tests/t.py::C::test_x` → `__ C.test_x __`) in `output`."""
    name = ".".join(test_id.split("::")[1:]) or test_id
    matches = list(HEADER.finditer(output))
    for i, m in enumerate(matches):
        if m.group(1).strip() == name:
            end = matches[i + 1].start() if i + 1 < len(matches) else len(output)
            body = output[m.start():end]
            body = re.split(r"^=+ .*? =+$", body, maxsplit=1, flags=re.M)[0]  # up to the next summary bar
            return trim(body, 1500)
    return ""
