"""What carrying out one model reply did (agent.py's act() fills one Outcome per reply).

It holds the notes sent back to the model, and the action kinds and details that the step
event reports (README.md: `action` is each kind once, in order, joined by +).
"""


class Outcome:
    """What one reply did: notes for the model, action kinds and details for the step event."""

    def __init__(self, notes=()):
        self.notes, self.kinds, self.details = list(notes), [], []
        self.edited = self.failed = self.submit = False  # an edit worked / an edit failed / submit

    def add(self, kind, note, detail):
        self.notes.append(note)
        self.kinds.append(kind)
        self.details.append(detail)

    def progress(self):
        """Did the reply change a file or run a command (not a stall)?"""
        return self.edited or "bash" in self.kinds

    def observation(self):
        return "\n\n".join(self.notes)

    def action(self):
        """The step event's `action`: each kind once, in order, joined by +."""
        kinds = [k for n, k in enumerate(self.kinds) if k not in self.kinds[:n]]
        return "+".join(kinds) or "none"

    def detail(self):
        return "; ".join(self.details)
