from columns import column_widths, format_row, render


def test_format_row():
    assert format_row(["a", "bb"], [3, 2]) == "| a   | bb |"


def test_widths_from_header_when_longest():
    assert column_widths(["name", "qty"], [["x", "1"]]) == [4, 3]


def test_widths_from_cells():
    assert column_widths(["id", "name"], [["1", "Alexandra"], ["22", "Bo"]]) == [2, 9]


def test_render_aligned():
    lines = render(["id", "name"], [["1", "Alexandra"]])
    assert lines == ["| id | name      |", "|----|-----------|", "| 1  | Alexandra |"]
    assert len({len(line) for line in lines}) == 1
