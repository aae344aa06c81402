"""Wall-clock arithmetic on 'HH:MM' strings for the shift planner."""


def to_minutes(clock):
    """Minutes after midnight for 'HH:MM'."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def from_minutes(total):
    """'HH:MM' for `total` minutes after midnight, wrapping around the day."""
    return f"{total // 60:02d}:{total % 60:02d}"


def add_minutes(clock, minutes):
    """The clock time `minutes` after `clock` (negative goes back)."""
    return from_minutes(to_minutes(clock) + minutes)
