"""Policy `python_as_shell_refusal` (config.json "policies"), used by agent.py; the class says what it does and why."""

import re

PYTHON_RE = re.compile(r"^(def |class |import [\w.]+\s*$|from [\w.]+ import |print\()")


class Policy:
    """Refuse a bash block that holds Python code (prompts/not_shell.txt): small models put the
    fixed function in a bash block; run by bash it only gives confusing syntax errors."""

    def __init__(self, enabled=True):
        self.enabled = enabled

    def refuses(self, cmd):
        return self.enabled and looks_like_python(cmd)


def looks_like_python(cmd):
    return bool(PYTHON_RE.match(cmd.lstrip()))
