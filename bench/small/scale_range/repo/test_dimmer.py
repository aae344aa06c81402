from dimmer import clamp, rescale, to_brightness


def test_clamp():
    assert clamp(5, 0, 10) == 5
    assert clamp(-1, 0, 10) == 0
    assert clamp(11, 0, 10) == 10


def test_brightness():
    assert to_brightness(0) == 0
    assert to_brightness(50) == 128
    assert to_brightness(100) == 255


def test_out_of_range_slider():
    assert to_brightness(150) == 255
    assert to_brightness(-5) == 0


def test_rescale_other_range():
    assert rescale(5, 0, 10, 100, 200) == 150
