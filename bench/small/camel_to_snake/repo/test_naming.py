from naming import table_name, to_snake


def test_simple():
    assert to_snake("UserAccount") == "user_account"
    assert to_snake("userAccount") == "user_account"
    assert to_snake("user") == "user"


def test_acronyms():
    assert to_snake("HTTPResponseCode") == "http_response_code"
    assert to_snake("parseXMLFile") == "parse_xml_file"
    assert to_snake("APIKey") == "api_key"


def test_table_name():
    assert table_name("Order") == "orders"
