from filenames import extension, icon


def test_simple():
    assert extension("photo.JPG") == "jpg"
    assert extension("dir.v2/notes") == ""
    assert extension("README") == ""


def test_hidden_files():
    assert extension(".bashrc") == ""
    assert extension("/home/ann/.config.bak") == "bak"


def test_last_dot_only():
    assert extension("archive.tar.gz") == "gz"
    assert icon("backup.tar.gz") == "archive"


def test_icon():
    assert icon("a.py") == "code"
    assert icon("Makefile") == "file"
