from byte_units import humanize, total


def test_bytes():
    assert humanize(0) == "0 B"
    assert humanize(1023) == "1023 B"


def test_in_between():
    assert humanize(1536) == "1.5 KiB"
    assert humanize(3 * 1024 ** 3) == "3.0 GiB"


def test_boundaries():
    assert humanize(1024) == "1.0 KiB"
    assert humanize(1024 ** 2) == "1.0 MiB"


def test_total():
    assert total([512, 512, 512]) == "1.5 KiB"
