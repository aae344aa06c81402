from cards import digits_only, luhn_valid


def test_digits_only():
    assert digits_only("4111-1111 1111") == "411111111111"


def test_valid_numbers():
    assert luhn_valid("4539 1488 0343 6467")
    assert luhn_valid("79927398713")
    assert luhn_valid("0000-0000")


def test_invalid_numbers():
    assert not luhn_valid("4539 1488 0343 6468")
    assert not luhn_valid("79927398710")


def test_malformed():
    assert not luhn_valid("0")
    assert not luhn_valid("")
    assert not luhn_valid("4539x48803436467")
