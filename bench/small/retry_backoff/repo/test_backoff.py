from backoff import delay, delays, total_wait


def test_doubles():
    assert delay(0) == 0.5
    assert delay(3) == 4.0


def test_capped():
    assert delays(5, base=0.5, cap=8) == [0.5, 1.0, 2.0, 4.0, 8]
    assert delay(20, cap=30.0) == 30.0


def test_no_retries():
    assert delays(0) == []
    assert total_wait(0) == 0


def test_total():
    assert total_wait(3, base=1, cap=100) == 7
