"""File-type detection for the file browser."""
import os

ICONS = {"jpg": "image", "png": "image", "gz": "archive", "zip": "archive", "py": "code"}


def extension(filename):
    """The lower-case extension after the last dot of the base name, without the dot;
    '' when there is none. A leading dot (hidden files like '.bashrc') does not start an
    extension."""
    base = os.path.basename(filename)
    return base.partition(".")[2].lower()


def icon(filename):
    return ICONS.get(extension(filename), "file")
