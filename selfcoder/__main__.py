"""`python -m selfcoder` = the `selfcoder` command."""

from selfcoder.cli import main

main()
