from slugs import slugify


def test_simple_title():
    assert slugify("Hello World") == "hello-world"


def test_punctuation_and_spaces():
    assert slugify("  Hello,  World! ") == "hello-world"
    assert slugify("C3PO & R2D2") == "c3po-r2d2"
