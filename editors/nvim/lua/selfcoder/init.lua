-- selfcoder for Neovim >= 0.10: a thin client of the `selfcoder lsp` language server.
--
-- Why thin: the server runs the agent, the sandbox and the tests; this plugin starts it (one per
-- project root), forwards `:Selfcoder ...` to its `workspace/executeCommand` commands, shows the
-- run's `$/progress` in messages and the statusline, and lets Neovim's own
-- `workspace/applyEdit` handler change the buffers — Neovim writes, never the server.
--
-- On 0.11 the server is declared with vim.lsp.config / vim.lsp.enable (it attaches to buffers of
-- `filetypes` by itself); on 0.10 a FileType autocmd calls vim.lsp.start. Either way
-- `:Selfcoder run` starts it on demand in any buffer of a project.
local runs = require("selfcoder.runs")

local M = {}

M.defaults = {
  cmd = nil, -- the server command; default { "selfcoder", "lsp" }, or { python, "-m", "selfcoder", "lsp" }
  python = nil, -- a Python interpreter with selfcoder installed (used when `cmd` is not set)
  settings = {}, -- your settings (trusted; initializationOptions): model, budget, sandbox, agent, testCmd, review
  root_markers = { ".git", "selfcoder.toml", "pyproject.toml", "setup.py", "package.json", "go.mod", "Cargo.toml" },
  filetypes = { "python", "sh", "javascript", "typescript", "go", "rust", "lua", "c", "cpp" },
  progress = true, -- echo each progress report in the message area
  save_on_apply = false, -- :write the changed buffers after `:Selfcoder apply`
}

M.config = vim.deepcopy(M.defaults)
M.agent = nil -- the agent chosen with `:Selfcoder agent` (nil: the server's default)
local pending = {} -- client id -> callbacks waiting for the client's initialisation
local reported_missing = {} -- server paths already reported missing at setup

local has_011 = vim.fn.has("nvim-0.11") == 1

--- `text` on one line of at most `room` screen cells (default: the message area, v:echospace),
--- cut with "…". Why: an echo wider than the message area stops Neovim at a "Press ENTER" prompt.
function M.fit(text, room)
  local line = text:gsub("%s+", " ")
  room = math.max(room or (vim.v.echospace - 1), 20)
  if vim.fn.strdisplaywidth(line) <= room then
    return line
  end
  local n = room - 1
  local cut = vim.fn.strcharpart(line, 0, n)
  while n > 0 and vim.fn.strdisplaywidth(cut) > room - 1 do -- wide characters take two cells
    n = n - 1
    cut = vim.fn.strcharpart(line, 0, n)
  end
  return cut .. "…"
end

local function builtin_notify()
  local info = debug.getinfo(vim.notify, "S")
  return info and info.source:find("vim/_editor.lua", 1, true) ~= nil
end

--- One message. Errors (a server not found, a file outside any project, the server's refusals)
--- are shown whole: they say what was tried and how to fix it, and a user must read all of that,
--- as Neovim's own errors. Everything else is cut to the message area (the whole text also goes to
--- the transcript, :Selfcoder log), so the routine messages of a run never stop at a prompt.
--- A notification plugin that replaced vim.notify (nvim-notify, noice) gets every message whole.
function M.notify(msg, level)
  level = level or vim.log.levels.INFO
  local text = "selfcoder: " .. msg
  if level >= vim.log.levels.ERROR or not builtin_notify() then
    return vim.notify(text, level, { title = "selfcoder" })
  end
  local line = M.fit(text)
  if line ~= text then
    runs.log(text)
  end
  vim.api.nvim_echo({ { line, level == vim.log.levels.WARN and "WarningMsg" or nil } }, true, {})
end

function M.server_cmd()
  local c = M.config
  if c.cmd then
    return type(c.cmd) == "string" and { c.cmd, "lsp" } or c.cmd
  end
  if c.python then
    return { c.python, "-m", "selfcoder", "lsp" }
  end
  return { "selfcoder", "lsp" }
end

--- nil when the server command can be run; else the one-line message saying what was tried.
function M.missing_server()
  local cmd = M.server_cmd()
  if vim.fn.executable(cmd[1]) == 1 then
    return nil
  end
  local where = cmd[1]:find("/") and "" or " on $PATH"
  return ("language server not found: tried `%s`%s (from cmd = %s). Install selfcoder (`pip install selfcoder`) "
    .. "or point setup{ cmd = { '/path/to/selfcoder', 'lsp' } } (or python = '/path/to/python') at it")
    :format(cmd[1], where, vim.inspect(cmd))
end

local initialized = {} -- client id -> true once the server answered `initialize`

local function on_init(client)
  initialized[client.id] = true
  local waiting = pending[client.id] or {}
  pending[client.id] = nil
  for _, fn in ipairs(waiting) do
    fn(client)
  end
end

--- One message when the server dies: before `initialize` it failed to start (wrong interpreter,
--- selfcoder not installed there, a broken install) — say what was run and how to fix it.
local function on_exit(code, signal, client_id)
  local started = initialized[client_id]
  pending[client_id], initialized[client_id] = nil, nil
  if runs.stopping or (started and code == 0) then
    return
  end
  local cmd = table.concat(M.server_cmd(), " ")
  local how = ("code %s%s"):format(code, signal ~= 0 and (", signal " .. signal) or "")
  vim.schedule(function()
    if started then
      M.notify(("the language server exited (%s); run `%s` in a terminal to see why, or :LspLog"):format(how, cmd),
        vim.log.levels.ERROR)
    else
      M.notify(("the language server failed to start: `%s` exited (%s) before answering. Run it in a terminal "
        .. "to see why (or :LspLog); install selfcoder there, or point setup{ cmd = ... } (or python = ...) "
        .. "at one that works"):format(cmd, how), vim.log.levels.ERROR)
    end
  end)
end

--- The client configuration, shared by vim.lsp.config (0.11) and vim.lsp.start.
function M.client_config(root)
  return {
    name = "selfcoder",
    cmd = M.server_cmd(),
    root_dir = root,
    root_markers = M.config.root_markers,
    filetypes = M.config.filetypes,
    init_options = M.config.settings,
    on_init = on_init,
    on_exit = on_exit,
    handlers = {
      ["window/logMessage"] = function(_, params, ctx)
        runs.log(params.message, ctx.client_id)
      end,
    },
  }
end

--- The project root of `bufnr`: the nearest folder with a root marker (the buffer's file, or the
--- current directory for a buffer without a file). nil + message when there is none.
function M.root_of(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local start = (name ~= "" and vim.bo[bufnr].buftype == "") and name or vim.fn.getcwd()
  local root = vim.fs.root(start, M.config.root_markers)
  if root then
    return (vim.fs.normalize(vim.fn.fnamemodify(root, ":p")):gsub("(.)/$", "%1"))
  end
  return nil, ("%s is outside any project folder (none of %s above it): open a file of a repository, "
    .. "or :cd into one"):format(start, table.concat(M.config.root_markers, ", "))
end

local function reuse(client, config)
  return client.name == "selfcoder" and client.root_dir == config.root_dir
end

--- Call fn(client) with the initialised selfcoder client of `root`, starting it if needed.
function M.with_client(bufnr, root, fn)
  for _, client in ipairs(vim.lsp.get_clients({ name = "selfcoder" })) do
    if client.root_dir == root and client.initialized then
      return fn(client)
    end
  end
  local missing = M.missing_server()
  if missing then
    return M.notify(missing, vim.log.levels.ERROR)
  end
  local ok, id = pcall(vim.lsp.start, M.client_config(root), { bufnr = bufnr, reuse_client = reuse })
  if not ok or not id then
    return M.notify(("could not start `%s`: %s"):format(table.concat(M.server_cmd(), " "), tostring(id)),
      vim.log.levels.ERROR)
  end
  local client = vim.lsp.get_client_by_id(id)
  if client and client.initialized then
    return fn(client)
  end
  pending[id] = pending[id] or {}
  table.insert(pending[id], fn)
end

--- workspace/executeCommand `command` with one object argument; on_ok(result) on success, an
--- error message (the server's own words) otherwise.
function M.exec(client, command, args, on_ok)
  local params = { command = command, arguments = { args } }
  local function handler(err, result)
    if err then
      return M.notify(("%s: %s"):format((command:gsub("^selfcoder%.", "")), err.message), vim.log.levels.ERROR)
    end
    if on_ok then
      on_ok(result or {})
    end
  end
  if has_011 then
    client:request("workspace/executeCommand", params, handler)
  else
    client.request("workspace/executeCommand", params, handler)
  end
end

--- `:Selfcoder ...` (see plugin/selfcoder.lua): dispatch to selfcoder.commands.
function M.command(opts)
  if not M.did_setup then
    M.setup({})
  end
  return require("selfcoder.commands").dispatch(opts)
end

function M.statusline()
  return runs.statusline()
end

--- The plugin's view of a run (nil when unknown): { runId, root, state, status, message, files }.
function M.run(run_id)
  return runs.get(run_id)
end

function M.latest(root)
  return runs.latest(root)
end

function M.setup(opts)
  M.did_setup = true
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  if opts and opts.filetypes then
    M.config.filetypes = opts.filetypes -- a list replaces, it does not merge
  end
  runs.setup(M)
  local missing = M.missing_server()
  if missing then
    local tried = M.server_cmd()[1]
    if not reported_missing[tried] then
      reported_missing[tried] = true
      M.notify(missing, vim.log.levels.ERROR)
    end
    return M -- no autostart: `:Selfcoder` says the same again; the editor stays usable
  end
  if #M.config.filetypes == 0 then
    return M
  end
  if has_011 and vim.lsp.config and vim.lsp.enable then
    vim.lsp.config("selfcoder", M.client_config(nil))
    vim.lsp.enable("selfcoder")
  else
    local group = vim.api.nvim_create_augroup("selfcoder_autostart", { clear = true })
    vim.api.nvim_create_autocmd("FileType", {
      group = group,
      pattern = M.config.filetypes,
      callback = function(ev)
        local root = M.root_of(ev.buf)
        if root then
          vim.lsp.start(M.client_config(root), { bufnr = ev.buf, reuse_client = reuse })
        end
      end,
    })
  end
  return M
end

return M
