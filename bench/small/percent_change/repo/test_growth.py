from growth import label, percent_change


def test_growth():
    assert percent_change(200, 250) == 25.0
    assert percent_change(3, 4) == 33.3


def test_decline():
    assert percent_change(100, 50) == -50.0


def test_from_zero():
    assert percent_change(0, 10) is None
    assert label(0, 10) == "n/a"


def test_no_change():
    assert percent_change(7, 7) == 0.0
    assert label(7, 7) == "+0.0%"
