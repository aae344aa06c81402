from csv_line import join_fields, split_fields


def test_join():
    assert join_fields(["a", "b,c", 'say "hi"']) == 'a,"b,c","say ""hi"""'


def test_plain():
    assert split_fields("a,b,c") == ["a", "b", "c"]
    assert split_fields(" a , b") == [" a ", " b"]


def test_empty_fields():
    assert split_fields("") == [""]
    assert split_fields("a,,") == ["a", "", ""]


def test_quoted_commas():
    assert split_fields('a,"b,c",d') == ["a", "b,c", "d"]


def test_escaped_quotes_and_round_trip():
    assert split_fields('"say ""hi""",x') == ['say "hi"', "x"]
    fields = ["1", "two, three", '"4"', ""]
    assert split_fields(join_fields(fields)) == fields
