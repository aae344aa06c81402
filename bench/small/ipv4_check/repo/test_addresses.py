from addresses import is_ipv4, is_private


def test_valid():
    assert is_ipv4("192.168.0.1")
    assert is_ipv4("0.0.0.0")
    assert is_ipv4("255.255.255.255")


def test_out_of_range():
    assert not is_ipv4("256.1.1.1")
    assert not is_ipv4("1.2.3.256")


def test_malformed():
    for bad in ("1.2.3", "1.2.3.4.5", "1.2.3.-4", "01.2.3.4", "a.b.c.d", ""):
        assert not is_ipv4(bad)


def test_private():
    assert is_private("10.1.2.3")
    assert not is_private("8.8.8.8")
