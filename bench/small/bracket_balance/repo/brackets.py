"""Bracket matching for the code editor's status bar."""

PAIRS = {")": "(", "]": "[", "}": "{"}


def is_balanced(text):
    """True when every (, [ and { in `text` is closed by its partner in the right order;
    other characters are ignored."""
    stack = []
    for ch in text:
        if ch in "([{":
            stack.append(ch)
        elif ch in PAIRS:
            if not stack or stack.pop() != PAIRS[ch]:
                return False
    return True


def first_unclosed(text):
    """Index of the first bracket that is never closed, or None."""
    stack = []
    for i, ch in enumerate(text):
        if ch in "([{":
            stack.append(i)
        elif ch in PAIRS and stack:
            stack.pop()
    return stack[0] if stack else None
