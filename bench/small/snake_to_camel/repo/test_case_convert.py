from case_convert import convert_keys, to_camel


def test_simple():
    assert to_camel("user_id_value") == "userIdValue"
    assert to_camel("name") == "name"


def test_leading_underscores():
    assert to_camel("_private_key") == "_privateKey"
    assert to_camel("__dunder") == "__dunder"


def test_repeated_underscores():
    assert to_camel("created__at_") == "createdAt"


def test_convert_keys():
    assert convert_keys({"first_name": "Ann", "age": 3}) == {"firstName": "Ann", "age": 3}
