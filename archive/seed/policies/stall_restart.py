"""Policy `stall_restart` (config.json "policies"), used by agent.py; the class says what it does and why."""


class Policy:
    """After `after_stalls` replies in a row that neither changed a file nor ran a command, start
    the conversation again from a fresh first prompt (files and tests as they are now) at a
    temperature raised by `temperature_step`, up to `max_temperature`. Measured: the 1.5B model
    at temperature 0 keeps echoing the prompt or the unchanged file, and a longer history of
    that only makes it worse."""

    def __init__(self, enabled=True, after_stalls=3, temperature_step=0.4, max_temperature=1.0):
        self.enabled, self.after_stalls = enabled, after_stalls
        self.temperature_step, self.max_temperature = temperature_step, max_temperature
        self.stalls = 0

    def due(self, progress):
        """Count this reply; True when the conversation should start again now."""
        self.stalls = 0 if progress else self.stalls + 1
        if self.enabled and self.stalls >= self.after_stalls:
            self.stalls = 0
            return True
        return False

    def raised(self, temperature):
        return min(self.max_temperature, temperature + self.temperature_step)
