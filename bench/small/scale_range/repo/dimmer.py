"""Map the app's dimmer slider onto the lamp's brightness scale."""


def clamp(value, low, high):
    """`value` limited to the range [low, high]."""
    return max(low, min(value, high))


def rescale(value, src_low, src_high, dst_low, dst_high):
    """`value` moved linearly from [src_low, src_high] to [dst_low, dst_high], clamped to
    the target range and rounded to the nearest integer."""
    fraction = (value - src_low) / (src_high - src_low)
    result = dst_low + fraction * (dst_high - dst_low)
    return round(clamp(result, dst_high, dst_low))


def to_brightness(slider):
    """Lamp brightness 0-255 for a slider value 0-100."""
    return rescale(slider, 0, 100, 0, 255)
