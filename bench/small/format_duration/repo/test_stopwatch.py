from stopwatch import format_duration, split_seconds


def test_under_an_hour():
    assert format_duration(125) == "2:05"
    assert format_duration(0) == "0:00"
    assert format_duration(59.9) == "0:59"


def test_over_an_hour():
    assert format_duration(3725) == "1:02:05"
    assert format_duration(36000) == "10:00:00"


def test_split():
    assert split_seconds(7322) == (2, 2, 2)
