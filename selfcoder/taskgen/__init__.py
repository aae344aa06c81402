"""Real benchmark tasks from real projects, in the manner of SWE-smith (`selfcoder bench gen`).

Modules, in the order a build uses them: `sdist` (fetch from the package index on the host,
cache, unpack, one-commit git repository, layout), `runtests` (the project's tests in a fresh
sandbox, statuses and failure messages), `mutations` (procedural AST bugs), `search` (seeded
candidate order, parallel tries, keep when ≥ 1 test fails and ≥ 1 passes), `statement`
(problem statements from the failing tests, or a model's bug report), `build` (one sdist →
SWE-bench instances with their repositories), `recipe` (many libraries from a TOML file).
"""
