import copy

from settings import DEFAULTS, merge


def test_override_top_level():
    merged = merge(DEFAULTS, {"theme": "dark"})
    assert merged["theme"] == "dark"
    assert merged["font_size"] == 12


def test_nested_merge():
    merged = merge(DEFAULTS, {"notifications": {"sms": True}})
    assert merged["notifications"] == {"email": True, "sms": True}


def test_defaults_unchanged():
    before = copy.deepcopy(DEFAULTS)
    merge(DEFAULTS, {"theme": "dark", "notifications": {"email": False}})
    assert DEFAULTS == before


def test_overrides_unchanged():
    overrides = {"notifications": {"sms": True}}
    merge(DEFAULTS, overrides)
    assert overrides == {"notifications": {"sms": True}}
