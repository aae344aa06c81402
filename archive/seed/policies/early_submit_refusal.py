"""Policy `early_submit_refusal` (config.json "policies"), used by agent.py; the class says what it does and why."""


class Policy:
    """Refuse SUBMIT while no file has been changed, `times` times in all; after that SUBMIT is
    trusted (maybe no change is needed). Small models write SUBMIT before doing anything."""

    def __init__(self, enabled=True, times=1):
        self.enabled, self.times, self.refused = enabled, times, 0

    def refuses(self, changed):
        if self.enabled and not changed and self.refused < self.times:
            self.refused += 1
            return True
        return False
