"""Build the records that the importer writes to the database."""


def make_record(name, tags=[]):
    """A record dict; `tags` are extra labels, 'imported' is always added."""
    tags.append("imported")
    return {"name": name, "tags": tags}
