-- Headless Neovim drives the selfcoder plugin as a user would: `:Selfcoder run <problem>` in a
-- buffer of the fixture repository, wait for the run, `:Selfcoder diff`, `:Selfcoder apply`,
-- `:wall`. What happened goes to $RESULT (JSON). $MODE "missing": a server path that does not
-- exist; "failing": an interpreter without selfcoder (the server dies at start); "outside": a file
-- outside any project. Either way the editor must stay usable.
local out = { mode = os.getenv("MODE") }
local function finish()
  out.messages = vim.fn.execute("messages")
  local f = assert(io.open(os.getenv("RESULT"), "w"))
  f:write(vim.json.encode(out))
  f:close()
  vim.cmd("qa!")
end

-- As typed by the user: an error message is shown, not raised into this script.
local function typed(cmdline)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(":" .. cmdline .. "<CR>", true, false, true), "xt", false)
end

local ok, err = pcall(function()
  if os.getenv("AS_010") then -- the plugin's Neovim 0.10 branches (vim.lsp.start from a FileType autocmd)
    local has = vim.fn.has
    vim.fn.has = function(feature) return feature == "nvim-0.11" and 0 or has(feature) end
  end
  vim.opt.runtimepath:prepend(os.getenv("PLUGIN"))
  vim.cmd("runtime plugin/selfcoder.lua")
  vim.cmd("helptags " .. os.getenv("PLUGIN") .. "/doc")
  local selfcoder = require("selfcoder")
  local settings = vim.json.decode(os.getenv("SETTINGS"))
  if out.mode == "missing" then
    selfcoder.setup({ cmd = { os.getenv("MISSING"), "lsp" }, settings = settings })
  elseif out.mode == "failing" then
    selfcoder.setup({ python = os.getenv("FAILING_PYTHON"), settings = settings })
  else
    selfcoder.setup({ python = os.getenv("SELFCODER_PYTHON"), settings = settings })
  end
  vim.o.statusline = "%f %{v:lua.require'selfcoder'.statusline()}"
  local has_group, autostart = pcall(vim.api.nvim_get_autocmds, { group = "selfcoder_autostart" })
  out.autostart_autocmds = has_group and #autostart or 0 -- the 0.10 way of starting the server

  if out.mode == "outside" then
    vim.cmd("edit " .. os.getenv("OUTSIDE"))
    typed("Selfcoder run fix it")
  elseif out.mode == "missing" then
    vim.cmd("edit " .. os.getenv("REPO") .. "/calc/ops.py")
    typed("Selfcoder run fix it")
  elseif out.mode == "failing" then -- the server starts and dies before answering `initialize`
    vim.cmd("edit " .. os.getenv("REPO") .. "/calc/ops.py")
    vim.wait(60000, function() return #vim.lsp.get_clients({ name = "selfcoder" }) == 0 end, 50)
    typed("Selfcoder run fix it")
    vim.wait(60000, function() return vim.fn.execute("messages"):find("failed to start") ~= nil end, 50)
    vim.wait(60000, function() return #vim.lsp.get_clients({ name = "selfcoder" }) == 0 end, 50)
  end
  if out.mode ~= "run" then
    -- still usable: edit, write and read a buffer
    vim.cmd("enew")
    vim.api.nvim_buf_set_lines(0, 0, -1, false, { "still", "usable" })
    out.usable = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), " ")
    out.clients = #vim.lsp.get_clients({ name = "selfcoder" })
    return
  end

  local root = os.getenv("REPO")
  vim.cmd("edit " .. root .. "/calc/ops.py")
  local ops = vim.api.nvim_get_current_buf()
  vim.cmd("Selfcoder run " .. os.getenv("PROBLEM"))
  assert(vim.wait(60000, function() return selfcoder.latest(root) ~= nil end, 50), "no run started")
  local run = selfcoder.latest(root)
  out.runId = run.runId
  local statuslines = {}
  assert(vim.wait(240000, function()
    local line = selfcoder.statusline()
    if statuslines[#statuslines] ~= line then table.insert(statuslines, line) end
    return run.state == "finished" or run.state == "discarded"
  end, 100), "the run did not finish")
  out.statuslines, out.status, out.files = statuslines, run.status, run.files

  vim.cmd("Selfcoder diff")
  assert(vim.wait(60000, function() return vim.b.selfcoder_run ~= nil end, 50), "no diff split")
  out.diff = { name = vim.api.nvim_buf_get_name(0), filetype = vim.bo.filetype, windows = #vim.api.nvim_list_wins(),
    text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n") }
  vim.cmd("close")

  vim.cmd("Selfcoder apply")
  assert(vim.wait(60000, function() return run.state == "applied" end, 50), "not applied")
  out.modified_before_write = vim.bo[ops].modified
  out.buffer = table.concat(vim.api.nvim_buf_get_lines(ops, 0, -1, false), "\n")
  vim.cmd("wall")
  out.modified_after_write = vim.bo[ops].modified
  vim.cmd("Selfcoder apply " .. run.runId) -- a second apply: refused by the server, one message
  vim.wait(60000, function() return vim.fn.execute("messages"):find("already applied") ~= nil end, 50)
  vim.cmd("help selfcoder")
  out.help = vim.api.nvim_buf_get_name(0)
end)
if not ok then out.error = tostring(err) end
finish()
