from search_text import matches, normalize


def test_case_folding():
    assert normalize("HeLLo") == "hello"
    assert normalize("Straße") == "strasse"


def test_accents_removed():
    assert normalize("Café Noir") == "cafe noir"
    assert normalize("Ångström") == "angstrom"


def test_matches():
    assert matches("cafe", "Café Noir")
    assert matches("NOIR", "Café Noir")
    assert not matches("tea", "Café Noir")
