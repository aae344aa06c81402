"""Policy `bare_command` (config.json "policies"), used by reply_parser.py; the class says what it does and why."""

COMMANDS = {"ls", "cat", "grep", "find", "sed", "head", "tail", "python", "python3", "pytest", "git",
            "cd", "echo", "wc", "awk", "diff", "pip", "rg", "tree", "make", "npm", "node", "go", "cargo"}


class Policy:
    """An untagged code block of 1 to `max_lines` lines whose first word is a common command
    (ls, grep, cat, ...) is a shell command: small models forget the bash tag."""

    def __init__(self, enabled=True, max_lines=3):
        self.enabled, self.max_lines = enabled, max_lines

    def matches(self, body, cmd):
        words = cmd.split()
        return self.enabled and len(body) <= self.max_lines and bool(words) and words[0] in COMMANDS
