from jobs import JobQueue


def test_priority_first():
    q = JobQueue()
    q.submit("report", 5)
    q.submit("alert", 0)
    assert q.next_job() == "alert"
    assert len(q) == 1


def test_same_priority_in_submission_order():
    q = JobQueue()
    for name in ("zip-logs", "backup", "mail"):
        q.submit(name, 1)
    assert [q.next_job() for _ in range(3)] == ["zip-logs", "backup", "mail"]


def test_empty():
    assert JobQueue().next_job() is None
