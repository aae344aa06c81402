"""Temperature conversions for the weather widget."""


def celsius_to_fahrenheit(celsius):
    """Degrees Celsius in degrees Fahrenheit."""
    return celsius * 9 / 5 + 32


def fahrenheit_to_celsius(fahrenheit):
    """Degrees Fahrenheit in degrees Celsius."""
    return fahrenheit - 32 * 5 / 9


def describe(celsius):
    """A one-word description of a temperature in Celsius."""
    if celsius < 0:
        return "freezing"
    if celsius < 15:
        return "cold"
    if celsius < 25:
        return "mild"
    return "hot"
