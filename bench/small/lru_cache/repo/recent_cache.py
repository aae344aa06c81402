"""A least-recently-used cache for thumbnails."""
from collections import OrderedDict


class LRUCache:
    """Holds at most `capacity` entries; adding one more evicts the least recently used.
    Both get() and put() count as a use."""

    def __init__(self, capacity):
        self.capacity = capacity
        self._data = OrderedDict()

    def get(self, key, default=None):
        if key not in self._data:
            return default
        return self._data[key]

    def put(self, key, value):
        if key in self._data:
            self._data.move_to_end(key)
        self._data[key] = value
        if len(self._data) > self.capacity:
            self._data.popitem(last=False)

    def keys(self):
        """Keys from least to most recently used."""
        return list(self._data)
