"""Clean up the recipient list before a mailing."""


def dedupe(addresses):
    """The addresses without duplicates (case-insensitive), in order of first appearance."""
    return list(set(address.lower() for address in addresses))
