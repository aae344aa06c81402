"""Policy `failed_edit_submit_refusal` (config.json "policies"), used by agent.py; the class says what it does and why."""


class Policy:
    """Refuse SUBMIT in a reply whose edit failed: the model believes in a change that was not
    made, and would submit without it."""

    def __init__(self, enabled=True):
        self.enabled = enabled

    def refuses(self, failed):
        return self.enabled and failed
