"""`--executor` and `--ray-address`, for the commands that run many jobs (eval, evolve): the
check before anything is written, and the start with its one progress line."""

from __future__ import annotations


def check_executor_options(kind: str, address: str | None) -> None:
    """One line for an unknown kind, an address without Ray, Ray missing or an address where no
    cluster answers: said before an output directory or an archive is touched."""
    from selfcoder.pools.kinds import check_executor

    check_executor(kind, address)
    if kind == "ray":
        from selfcoder.pools.ray_pool import preflight

        preflight(address)


def start_executor(kind: str, workers: int, address: str | None, console):
    """The executor the jobs run on (selfcoder/pools/; Ray is imported only for `ray`)."""
    from selfcoder.pools import make_executor
    from selfcoder.core.safe_text import markup

    if kind == "ray":
        where = f"joining the Ray cluster at {markup(address)}" if address else "starting a local Ray cluster"
        console.print(f"[dim]{where}...[/]")
    return make_executor(kind, workers, address=address)
