"""SWE-bench–style evaluation: task sets, predictions, environments, official grading, reports.

    selfcoder eval TASKS --agent seed --out DIR        # run an agent on every instance, grade it
    selfcoder eval TASKS --predictions gold --out DIR  # grade existing predictions

Modules: `tasks` (task sets, bad lines reported), `predictions` (the official JSONL),
`official_rule` (the official rule), `grade` (one prediction in a fresh sandbox), `environments`
(cached virtualenvs per Python version), `official_specs` (the environment of an official
instance that names none, from the official spec for its repo and version: swebench's own
table, else selfcoder's copy of swebench 4.1.0's, data/swebench_specs.json), `store` (one result
file and the logs per finished instance: resume), `evaluate` (the worker pool), `report`
(report.json and the summary table).
"""
