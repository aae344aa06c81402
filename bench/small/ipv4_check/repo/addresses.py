"""Validation of IPv4 addresses typed into the firewall form."""


def is_ipv4(text):
    """True for dotted-quad addresses: four decimal parts 0-255, no signs, no spaces,
    no leading zeros ('01' is rejected, '0' is fine)."""
    parts = text.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        if not part.isdigit() or not part.isascii():
            return False
        if len(part) > 1 and part[0] == "0":
            return False
        if int(part) > 256:
            return False
    return True


def is_private(text):
    """True for addresses in 10/8 and 192.168/16."""
    if not is_ipv4(text):
        return False
    first, second = (int(p) for p in text.split(".")[:2])
    return first == 10 or (first == 192 and second == 168)
