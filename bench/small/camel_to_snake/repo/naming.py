"""Derive database table names from model class names."""
import re

ACRONYM_BOUNDARY = re.compile(r"([A-Z]+)([A-Z][a-z])")
WORD_BOUNDARY = re.compile(r"([a-z0-9])([A-Z])")


def to_snake(name):
    """snake_case for a CamelCase or camelCase `name`; a run of capitals is one word
    ('HTTPServer' -> 'http_server')."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def table_name(class_name):
    """Plural table name: 'UserAccount' -> 'user_accounts'."""
    return to_snake(class_name) + "s"
