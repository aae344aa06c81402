"""The budget each job of a search draws on: every model call is in the archive's spend ledger
before its reply is used, so a kill after the call loses nothing of what it cost (db.py)."""

from __future__ import annotations

from selfcoder.evolve.archive import Archive
from selfcoder.llm.budget import Budget

BIG = 10**12


class LedgerBudget(Budget):
    """One job's view of the search's budget (`parent`, None without --max-usd): no limits of its
    own; every call it settles is written to the archive's spend ledger first, so a kill after
    the call loses nothing of what it cost."""

    def __init__(self, archive: Archive, job: str, kind: str, *, node: str | None = None, task: str | None = None,
                 parent: Budget | None = None):
        super().__init__(BIG, BIG, BIG, parent=parent)
        self.archive, self.job, self.kind, self.node, self.task = archive, job, kind, node, task

    def settle(self, reservation, tokens: int = 0, cost_usd: float = 0.0, prompt_tokens: int | None = None) -> None:
        if reservation.open and (tokens or cost_usd):
            self.archive.db.add_spend(self.job, self.kind, tokens, cost_usd, node=self.node, task=self.task)
        super().settle(reservation, tokens, cost_usd, prompt_tokens)
