"""Runs one shell command in the workspace and returns its exit code and (shortened) output.

Each command gets a fresh bash (cd does not carry over), stdin closed, a timeout, and its own
process group, which is killed afterwards: a test suite that leaves a server running must not
keep the agent waiting. Output goes to a temporary file, not a pipe that a background process
could hold open, and long output keeps its head and tail.
"""

import os
import signal
import subprocess
import tempfile
import threading

# not passed on to commands: a nested agent (e.g. the repository's own tests running this
# scaffold) would append its events to ours
HIDDEN_ENV = ("SELFCODER_EVENTS",)


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _command_env():
    env = dict(os.environ, PAGER="cat", GIT_PAGER="cat", TERM="dumb", PYTHONDONTWRITEBYTECODE="1")
    for name in HIDDEN_ENV:
        env.pop(name, None)
    return env


def _read_shortened(out, max_chars):
    """The output file's text; over `max_chars` bytes, its head and tail with a marker."""
    size = out.seek(0, os.SEEK_END)
    out.seek(0)
    if size <= max_chars:
        return out.read().decode("utf-8", "replace")
    head = out.read(max_chars // 2).decode("utf-8", "replace")
    out.seek(size - max_chars // 2)
    return "%s\n[... %d bytes omitted ...]\n%s" % (
        head, size - 2 * (max_chars // 2), out.read().decode("utf-8", "replace"))


def run_shell(cmd, cwd, timeout, max_chars):
    """Run `cmd` in a fresh bash in `cwd`; return (exit code, output); 124 on timeout."""
    shell = "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([shell, "-c", cmd], cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=_command_env(), start_new_session=True)
        # a blocking wait plus a timer that kills on timeout: Popen.wait(timeout) polls with
        # sleeps, which measurably added milliseconds to every command
        expired = []
        timer = threading.Timer(max(timeout, 0.01), lambda: (expired.append(1), _kill_group(proc.pid)))
        timer.daemon = True  # never keeps the agent alive after it was told to stop
        timer.start()
        try:
            code = proc.wait()
        finally:  # also when SIGTERM interrupts the wait: the command must not outlive us
            timer.cancel()
            _kill_group(proc.pid)  # whatever the command left running in the background
        note = ""
        if expired:
            code, note = 124, "\n(timed out after %g s; the command was killed)" % timeout
        text = _read_shortened(out, max_chars)
    return code, text + note
