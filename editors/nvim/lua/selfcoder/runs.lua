-- What the plugin knows of its runs: state from the server's `$/progress` (token
-- "selfcoder/<run id>") and `selfcoder.status`, the transcript (window/logMessage), the
-- statusline text. Why here: Neovim already turns `$/progress` into `LspProgress` autocmds, so
-- one autocmd keeps every run's last message without polling the server.
local M = {}

M.by_id = {} -- run id -> { runId, root, client_id, problem, state, status, message, files }
M.order = {} -- run ids, oldest first
M.transcript = {} -- window/logMessage lines of every selfcoder client
M.stopping = false
local MAX_TRANSCRIPT = 5000
local core -- the selfcoder module (notify, exec, config)

function M.add(run_id, root, client_id, problem)
  M.by_id[run_id] = { runId = run_id, root = root, client_id = client_id, problem = problem, state = "running",
    status = "", message = "starting", files = {} }
  table.insert(M.order, run_id)
  vim.cmd("redrawstatus")
  return M.by_id[run_id]
end

function M.get(run_id)
  return M.by_id[run_id]
end

--- The newest run in `root` (any root when nil), optionally only those whose state is in `states`.
function M.latest(root, states)
  for i = #M.order, 1, -1 do
    local run = M.by_id[M.order[i]]
    if (root == nil or run.root == root) and (states == nil or vim.tbl_contains(states, run.state)) then
      return run
    end
  end
end

--- Merge a `selfcoder.status` entry into the run it describes.
function M.update(entry)
  local run = M.by_id[entry.runId]
  if not run then
    return
  end
  run.state, run.status = entry.state, entry.status
  run.files, run.diffUri = entry.touchedFiles or run.files, entry.diffUri
  if entry.state ~= "running" and entry.message and entry.message ~= vim.NIL and entry.message ~= "" then
    run.message = entry.message
  end
  vim.cmd("redrawstatus")
  return run
end

function M.log(message, client_id)
  table.insert(M.transcript, message)
  if #M.transcript > MAX_TRANSCRIPT then
    table.remove(M.transcript, 1)
  end
  local buf = vim.fn.bufnr("selfcoder://transcript")
  if buf > 0 and vim.api.nvim_buf_is_loaded(buf) then
    vim.bo[buf].modifiable = true
    vim.api.nvim_buf_set_lines(buf, -1, -1, false, vim.split(message, "\n", { plain = true }))
    vim.bo[buf].modifiable = false
  end
end

local function finished(run)
  local client = vim.lsp.get_client_by_id(run.client_id)
  if not client then
    return
  end
  core.exec(client, "selfcoder.status", { runId = run.runId }, function(result)
    local entry = result.runs and result.runs[1]
    if not entry then
      return
    end
    M.update(entry)
    local files = #run.files
    local next_step = ""
    if run.state == "finished" and files > 0 then
      next_step = entry.status == "resolved" and " — :Selfcoder diff|apply|discard" or " — :Selfcoder diff|discard"
    end
    -- what to do next first, the run's id last: on a narrow window the message is cut at its end
    core.notify(("run %s (%d file%s)%s (%s)"):format(entry.status, files, files == 1 and "" or "s", next_step,
      run.runId), entry.status == "resolved" and vim.log.levels.INFO or vim.log.levels.WARN)
    vim.api.nvim_exec_autocmds("User", { pattern = "SelfcoderRunDone", modeline = false, data = entry })
  end)
end

local function on_progress(ev)
  local params = ev.data and ev.data.params
  local token = params and params.token
  local run_id = type(token) == "string" and token:match("^selfcoder/(.+)$")
  local run = run_id and M.by_id[run_id]
  if not run then
    return
  end
  local value = params.value or {}
  if value.message then
    run.message = value.message
  end
  if value.kind == "end" then
    run.state = "finishing"
    finished(run)
  elseif core.config.progress and value.message then
    -- cut to the message area's width: a longer echo would stop Neovim at a hit-enter prompt
    vim.api.nvim_echo({ { core.fit("selfcoder: " .. value.message) } }, false, {})
  end
  vim.cmd("redrawstatus")
end

local icons = { running = "…", finishing = "…", finished = "✓", applied = "✓ applied", discarded = "✗ discarded" }

--- "selfcoder: <state> <message>" for the newest run of the current buffer's project ("" if none).
function M.statusline()
  local root = core and core.root_of(vim.api.nvim_get_current_buf())
  local run = M.latest(root) or (root == nil and M.latest(nil)) or nil
  if not run then
    return ""
  end
  -- the result once finished, the latest step while running (cut: the file name must stay visible)
  local what = ""
  if run.state == "finished" then
    what = run.status or ""
  elseif run.state == "running" or run.state == "finishing" then
    what = (run.message or ""):gsub("%s+", " ")
    if vim.fn.strchars(what) > 60 then
      what = vim.fn.strcharpart(what, 0, 59) .. "…"
    end
  end
  return ("selfcoder %s %s"):format(icons[run.state] or run.state, what)
end

function M.setup(selfcoder)
  core = selfcoder
  local group = vim.api.nvim_create_augroup("selfcoder_runs", { clear = true })
  vim.api.nvim_create_autocmd("LspProgress", { group = group, callback = on_progress })
  vim.api.nvim_create_autocmd("VimLeavePre", { group = group, callback = function() M.stopping = true end })
end

return M
