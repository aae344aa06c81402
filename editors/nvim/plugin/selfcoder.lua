-- :Selfcoder — defined at startup (cheap: the plugin's modules load on first use); without a
-- call to require('selfcoder').setup{} the defaults apply (server `selfcoder lsp` from $PATH).
if vim.g.loaded_selfcoder then
  return
end
vim.g.loaded_selfcoder = true

vim.api.nvim_create_user_command("Selfcoder", function(opts)
  require("selfcoder").command(opts)
end, {
  nargs = "*",
  range = true,
  desc = "selfcoder: run | cancel | diff | apply | discard | status | agent | log",
  complete = function(arglead, cmdline)
    return require("selfcoder.commands").complete(arglead, cmdline)
  end,
})
