"""The language server (`selfcoder lsp`): runs from the editor, progress, review, apply,
test results as diagnostics. See server.py for the commands and README "In your editor"."""
