"""Policy `repeat_refusal` (config.json "policies"), used by agent.py; the class says what it does and why."""

import collections

from texts import same_text


class Policy:
    """Do not run a command identical to one already run since the last successful edit (its
    output would be the same); prompts/repeat.txt says so. A 1.5B model resends `ls` forever."""

    def __init__(self, enabled=True):
        self.enabled, self.ran = enabled, collections.Counter()

    def times(self, cmd):
        """How many times `cmd` has been asked for since the last edit, this time included."""
        self.ran[same_text(cmd)] += 1
        return self.ran[same_text(cmd)]

    def refuses(self, times):
        return self.enabled and times > 1

    def forget(self):
        self.ran.clear()
