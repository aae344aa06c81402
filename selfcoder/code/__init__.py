"""Code intelligence for the agent's task: a tree-sitter repository map ranked by relevance.

    from selfcoder.code import build_repo_map
    m = build_repo_map(repo, problem, failing_output)
    m.text          # files, then indented class / def signatures, most relevant first
    m.ranked_files  # every file, most relevant first

Modules: `files` (which files), `languages` (offline grammars), `symbols` (definitions and
signatures), `rank` (relevance evidence), `repo_map` (assembly and rendering).
"""

from selfcoder.code.repo_map import RepoMap, build_repo_map

__all__ = ["RepoMap", "build_repo_map"]
