"""Caesar cipher for the puzzle page."""
import string


def shift_letter(ch, shift):
    """`ch` moved `shift` places along the alphabet, wrapping around; other characters
    are returned unchanged. Case is kept."""
    if ch in string.ascii_lowercase:
        base = ord("a")
    elif ch in string.ascii_uppercase:
        base = ord("A")
    else:
        return ch
    return chr(ord(ch) + shift)


def encrypt(text, shift):
    return "".join(shift_letter(ch, shift) for ch in text)


def decrypt(text, shift):
    return encrypt(text, -shift)
