from progress import percent, progress_line


def test_percent():
    assert percent(1, 3) == 33.3
    assert percent(5, 5) == 100.0


def test_empty_export():
    assert percent(0, 0) == 100.0
    assert progress_line(0, 0) == "0/0 (100.0%)"
