from templating import expand, names


def test_names():
    assert names("${A}-${B}-${A} $$ ${C") == ["A", "B"]


def test_simple():
    assert expand("${HOME}/bin", {"HOME": "/root"}) == "/root/bin"
    assert expand("port=${PORT}", {"PORT": 8080}) == "port=8080"


def test_unknown_left_alone():
    assert expand("${USER}@${HOST}", {"USER": "ann"}) == "ann@${HOST}"


def test_dollars():
    assert expand("cost: $$5 and $x", {}) == "cost: $5 and $x"


def test_no_second_expansion():
    assert expand("${A}", {"A": "${B}", "B": "no"}) == "${B}"
