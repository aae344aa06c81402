from emails import dedupe


def test_duplicates_removed():
    assert sorted(dedupe(["a@x.org", "A@x.org", "b@x.org"])) == ["a@x.org", "b@x.org"]


def test_order_kept():
    addresses = ["zoe@x.org", "amy@x.org", "Zoe@x.org", "max@x.org", "bob@x.org"]
    assert dedupe(addresses) == ["zoe@x.org", "amy@x.org", "max@x.org", "bob@x.org"]
