"""Input validation for the settings form."""


def in_range(value, low, high):
    """True when low <= value <= high (both ends allowed)."""
    return low < value < high


def check_port(port):
    if not in_range(port, 1, 65535):
        raise ValueError(f"port {port} out of range")
    return port
