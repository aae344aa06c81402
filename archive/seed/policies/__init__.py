"""The small-model heuristics: one named policy per file in this folder, switched and tuned in
config.json "policies".

Why they exist: a 1.5B model echoes prompts, resends the same reply or command, forgets the
bash tag, returns a fragment as a "whole file" and rarely writes SUBMIT. Each policy is one
answer to one such habit. The shape is the same for all, so that one improvement is one small
file: `policies/<name>.py` holds one class `Policy`, whose docstring says what it does and why and
whose __init__ takes `enabled` (false turns it off) plus its settings; the loop (agent.py), the
reply parser and the edits call its methods as `policies.<name>`. A policy missing from
config.json keeps its defaults; a name config.json gives that has no file here is an error.
README.md lists them all.
"""

import importlib
import os

NAMES = sorted(f[:-3] for f in os.listdir(os.path.dirname(os.path.abspath(__file__)))
               if f.endswith(".py") and not f.startswith("_"))


class Policies:
    """One instance of every policy (they keep per-run counts), from config.json "policies"."""

    def __init__(self, settings=None):
        settings = settings or {}
        unknown = sorted(set(settings) - set(NAMES))
        if unknown:
            raise ValueError("unknown policies in config.json: %s (known: %s)"
                             % (", ".join(unknown), ", ".join(NAMES)))
        for name in NAMES:
            kind = importlib.import_module("%s.%s" % (__name__, name)).Policy
            setattr(self, name, kind(**settings.get(name, {})))
