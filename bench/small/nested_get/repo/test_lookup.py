from lookup import get_path, has_path

CFG = {"db": {"host": "h", "port": 5432}, "debug": False, "mode": "dev"}


def test_present():
    assert get_path(CFG, "db.port") == 5432
    assert get_path(CFG, "debug", True) is False


def test_missing_key():
    assert get_path(CFG, "db.user", "root") == "root"
    assert get_path(CFG, "cache.size") is None


def test_parent_not_a_dict():
    assert get_path({"db": "sqlite"}, "db.host", "localhost") == "localhost"
    assert get_path(CFG, "db.port.number", 0) == 0


def test_has_path():
    assert has_path(CFG, "db.host")
    assert not has_path(CFG, "mode.x")
