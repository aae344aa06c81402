"""Split one line of the exporter's CSV dialect back into fields."""


def join_fields(fields):
    """The inverse of split_fields: quote fields holding a comma or a quote."""
    out = []
    for field in fields:
        if "," in field or '"' in field:
            field = '"' + field.replace('"', '""') + '"'
        out.append(field)
    return ",".join(out)


def split_fields(line):
    """The fields of `line`, split on commas.

    A field that starts with a double quote runs to the matching closing quote and may
    contain commas; inside it, two double quotes stand for one. Unquoted fields are taken
    as they are (no stripping). An empty line is one empty field: [''].
    """
    raise NotImplementedError
