"""Where the agent's events go: the host's event file, or stdout for a run by hand.

Why a file: the sandbox caps the agent's output (head and tail kept), so a chatty run could
lose its final `exit` event in the cut. When env SELFCODER_EVENTS names a file (the runner sets
/run/selfcoder/events.jsonl, in the run's I/O directory), each event is appended to it as one
JSON object on one line, and the file is closed (flushed) at once so the host can tail it.
When SELFCODER_EVENTS is unset or empty, each event is printed as a `@@selfcoder {json}` line.
"""

import json
import os
import sys

PREFIX = "@@selfcoder "


def emit(**event):
    """Send one event (README.md lists them); never raises for a file that cannot be written."""
    line = json.dumps(event)
    path = os.environ.get("SELFCODER_EVENTS")
    if path:
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
            return
        except OSError as e:  # better on stdout than lost
            print("cannot append to SELFCODER_EVENTS=%s: %s" % (path, e), file=sys.stderr)
    print(PREFIX + line, flush=True)
