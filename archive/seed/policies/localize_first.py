"""Policy `localize_first` (config.json "policies"), used by fast_path.py; the class says what it does and why."""


class Policy:
    """Before the loop, when the tests fail at the start: show the problem, the failing output
    and at most `max_functions` functions (of fewer than `max_function_lines` lines) that the
    tests point at, ask for the corrected whole function, submit when the tests then pass; at
    most `attempts` model calls, test output cut to `test_output_chars` (fast_path.py). Why: a
    1.5B model drives a long loop badly but rewrites a function it is shown well."""

    def __init__(self, enabled=True, attempts=2, max_functions=2, max_function_lines=80, test_output_chars=2000):
        self.enabled, self.attempts, self.max_functions = enabled, attempts, max_functions
        self.max_function_lines, self.test_output_chars = max_function_lines, test_output_chars
