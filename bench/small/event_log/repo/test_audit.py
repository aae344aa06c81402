from audit import AuditLog


def test_record_counts():
    log = AuditLog()
    assert log.record("login") == 1
    assert log.record("logout") == 2
    assert log.entries() == ["login", "logout"]


def test_logs_are_independent():
    a = AuditLog()
    b = AuditLog()
    a.record("login")
    assert b.entries() == []


def test_initial_entries_are_copied():
    start = ["boot"]
    log = AuditLog(start)
    log.record("login")
    assert start == ["boot"]


def test_last():
    log = AuditLog(["a", "b", "c"])
    assert log.last(2) == ["b", "c"]
    assert log.last(0) == []
