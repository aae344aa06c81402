"""Elapsed-time display for the stopwatch."""


def split_seconds(total):
    """(hours, minutes, seconds) for a whole number of seconds."""
    hours = total // 3600
    minutes = total // 60
    seconds = total % 60
    return hours, minutes, seconds


def format_duration(total):
    """'M:SS' under an hour, 'H:MM:SS' from one hour on."""
    hours, minutes, seconds = split_seconds(int(total))
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"
