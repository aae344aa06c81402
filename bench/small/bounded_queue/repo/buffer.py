"""A fixed-capacity FIFO buffer between the producer and the uploader."""
from collections import deque


class BoundedQueue:
    """FIFO with a capacity. push() on a full queue raises OverflowError; pop() on an
    empty one raises IndexError."""

    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items = deque()

    def push(self, item):
        if len(self._items) >= self.capacity:
            raise ValueError("queue is full")
        self._items.append(item)

    def pop(self):
        if not self._items:
            raise IndexError("queue is empty")
        return self._items.popleft()

    def __len__(self):
        return len(self._items)
