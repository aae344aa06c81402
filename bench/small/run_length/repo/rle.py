"""Run-length encoding for the sprite format: 'aaab' <-> '3a1b'."""


def encode(text):
    """Each run of equal characters as its length followed by the character."""
    if not text:
        return ""
    parts = []
    run_char, run_len = text[0], 1
    for ch in text[1:]:
        if ch == run_char:
            run_len += 1
        else:
            parts.append(f"{run_len}{run_char}")
            run_char, run_len = ch, 1
    return "".join(parts)


def ratio(text):
    """Encoded length / original length (1.0 for empty text)."""
    return len(encode(text)) / len(text) if text else 1.0
