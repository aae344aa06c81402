-- init.lua of the Neovim TUI run (tests/editors/nvim_tui.py): the plugin from $PLUGIN on the
-- runtimepath, set up as the README says, with the user's settings from $SETTINGS (the scripted
-- model) and the server started with $SELFCODER_PYTHON; the statusline shows the run.
vim.opt.runtimepath:prepend(os.getenv("PLUGIN"))
vim.o.termguicolors = true
vim.o.swapfile = false
vim.o.number = true
vim.o.laststatus = 2
require("selfcoder").setup({
  python = os.getenv("SELFCODER_PYTHON"),
  settings = vim.json.decode(os.getenv("SETTINGS")),
})
vim.o.statusline = " %f %m%=%{v:lua.require'selfcoder'.statusline()} "
