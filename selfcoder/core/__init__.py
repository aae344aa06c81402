"""The base layer: what every part of selfcoder uses and that uses no part of it — settings and
their trust rules, errors, safe text for terminals, atomic files, the task and event types, run
status and cancel tokens, hardened host git, patch paths, repository file listing, and where the
seed scaffold lives. Nothing here imports from another selfcoder package (tests/test_layers.py)."""
