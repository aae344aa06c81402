from natsort import natural_key, natural_sorted


def test_numbers_by_value():
    assert natural_sorted(["file10", "File2", "file1"]) == ["file1", "File2", "file10"]


def test_several_numbers():
    assert natural_sorted(["v1.10", "v1.9", "v1.2"]) == ["v1.2", "v1.9", "v1.10"]


def test_leading_digits_and_plain_text():
    assert natural_sorted(["b", "10a", "2a", "A"]) == ["2a", "10a", "A", "b"]


def test_key_is_a_tuple():
    assert natural_key("Img12.png") == ("img", 12, ".png")
