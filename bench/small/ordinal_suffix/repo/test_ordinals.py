from ordinals import ordinal, podium


def test_basic():
    assert [ordinal(n) for n in (1, 2, 3, 4, 10)] == ["1st", "2nd", "3rd", "4th", "10th"]
    assert ordinal(22) == "22nd"
    assert ordinal(101) == "101st"


def test_teens():
    assert [ordinal(n) for n in (11, 12, 13)] == ["11th", "12th", "13th"]
    assert ordinal(113) == "113th"
    assert ordinal(212) == "212th"


def test_podium():
    assert podium(["ann", "bo", "cy", "di"]) == ["1st: ann", "2nd: bo", "3rd: cy"]
