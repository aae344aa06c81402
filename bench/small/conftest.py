"""The tasks' tests fail on purpose (each repo/ holds a bug): never collect them from here.
bench/tasks/check_tasks.py runs them in temporary copies, where this file is absent."""

collect_ignore_glob = ["*/repo/*"]
