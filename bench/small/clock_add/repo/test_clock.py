from clock import add_minutes, from_minutes, to_minutes


def test_to_minutes():
    assert to_minutes("01:30") == 90


def test_same_day():
    assert add_minutes("09:15", 30) == "09:45"
    assert from_minutes(0) == "00:00"


def test_across_midnight():
    assert add_minutes("23:30", 45) == "00:15"
    assert add_minutes("22:00", 180) == "01:00"


def test_backwards():
    assert add_minutes("00:10", -20) == "23:50"
