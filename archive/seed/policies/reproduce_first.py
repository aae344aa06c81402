"""Policy `reproduce_first` (config.json "policies"), used by reproduce.py; the class says what it does and why."""


class Policy:
    """Inside the fast path (so only with `localize_first` on), when the tests pass at the start:
    ask for one pytest file, saved as `file`, that reproduces the problem (files shown up to
    `files_max_chars`); kept when pytest reports a failing test, and its failure is localised;
    else retried with pytest's output (cut to `test_output_chars`), `attempts` model calls in
    all, then removed (reproduce.py). Why: a user's problem rarely comes with a failing test,
    and without one the fast path has nothing to localise from (Agentless)."""

    def __init__(self, enabled=True, attempts=2, file="test_reproduce_issue.py", files_max_chars=6000,
                 test_output_chars=2000):
        self.enabled, self.attempts, self.file = enabled, attempts, file
        self.files_max_chars, self.test_output_chars = files_max_chars, test_output_chars
