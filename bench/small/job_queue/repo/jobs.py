"""Priority queue of background jobs (lower number = more urgent)."""
import heapq
import itertools


class JobQueue:
    """Jobs come out most urgent first; jobs of equal priority in submission order."""

    def __init__(self):
        self._heap = []
        self._counter = itertools.count()

    def submit(self, name, priority):
        heapq.heappush(self._heap, (priority, name))

    def next_job(self):
        """The name of the job to run next (removed from the queue); None when empty."""
        if not self._heap:
            return None
        return heapq.heappop(self._heap)[-1]

    def __len__(self):
        return len(self._heap)
