"""Policy `auto_submit` (config.json "policies"), used by agent.py; the class says what it does and why."""


class Policy:
    """Submit without waiting for SUBMIT after a reply whose edits all worked, when the tests
    failed before any edit and pass now: a small model that fixed the bug rarely says so. When the
    tests passed at the start (SWE-bench adds the failing tests only at validation) this never
    fires and the model has to write SUBMIT."""

    def __init__(self, enabled=True):
        self.enabled = enabled

    def applies(self, tests_failed_at_start, exit_code, edit_failed):
        return self.enabled and tests_failed_at_start and exit_code == 0 and not edit_failed
