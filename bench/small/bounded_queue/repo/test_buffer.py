import pytest

from buffer import BoundedQueue


def test_fifo_order():
    q = BoundedQueue(3)
    q.push("a")
    q.push("b")
    assert q.pop() == "a"
    assert len(q) == 1


def test_full_queue_raises_overflow():
    q = BoundedQueue(1)
    q.push(1)
    with pytest.raises(OverflowError):
        q.push(2)
    assert len(q) == 1


def test_empty_pop():
    with pytest.raises(IndexError):
        BoundedQueue(2).pop()


def test_bad_capacity():
    with pytest.raises(ValueError):
        BoundedQueue(0)
