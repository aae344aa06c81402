"""Grouping helpers for the reports module."""


def group_by(items, key):
    """{key(item): [items with that key]} for an iterable of items.

    Groups appear in the order their key is first seen and items keep their input order.
    `key` may also be a string, meaning item[key] (for rows that are dicts).
    """
    raise NotImplementedError


def totals(rows, key, field):
    """{key value: sum of row[field]} for dict rows."""
    return {name: sum(row[field] for row in group) for name, group in group_by(rows, key).items()}
