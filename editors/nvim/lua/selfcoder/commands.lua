-- `:Selfcoder run|cancel|diff|apply|discard|status|agent|log`: each finds the project of the
-- current buffer, its selfcoder client (started on demand) and the run it means (the id given,
-- else the project's newest run), then asks the server. Errors are one message each; the
-- server's own words are shown as they are.
local core = require("selfcoder")
local runs = require("selfcoder.runs")

local M = {}
local ERROR, WARN = vim.log.levels.ERROR, vim.log.levels.WARN

M.subcommands = { "run", "cancel", "diff", "apply", "discard", "status", "agent", "log" }

--- fn(client, root, bufnr) in the current buffer's project, or a message saying why not.
local function in_project(fn)
  local bufnr = vim.api.nvim_get_current_buf()
  local root, why = core.root_of(bufnr)
  if not root then
    return core.notify(why, ERROR)
  end
  core.with_client(bufnr, root, function(client)
    fn(client, root, bufnr)
  end)
end

--- The run `id` names, else the newest of `root` in one of `states`; nil + message otherwise.
local function pick(root, id, states, action)
  if id and id ~= "" then
    return runs.get(id) or { runId = id, root = root }
  end
  local run = runs.latest(root, states)
  if not run then
    core.notify(("no run to %s in %s (:Selfcoder status lists them; :Selfcoder run <problem> starts one)")
      :format(action, root), WARN)
  end
  return run
end

local function file_in(root, bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" or vim.bo[bufnr].buftype ~= "" then
    return nil
  end
  local path = vim.fs.normalize(vim.fn.fnamemodify(name, ":p"))
  return path:sub(1, #root + 1) == root .. "/" and path or nil
end

local function start_run(problem, opts)
  in_project(function(client, root, bufnr)
    local args = { problem = problem, folderUri = vim.uri_from_fname(root), agent = core.agent }
    local file = file_in(root, bufnr)
    if file then
      args.uri = vim.uri_from_fname(file)
      if opts.range and opts.range > 0 then
        local last = vim.api.nvim_buf_get_lines(bufnr, opts.line2 - 1, opts.line2, false)[1] or ""
        args.range = { start = { line = opts.line1 - 1, character = 0 },
          ["end"] = { line = opts.line2 - 1, character = #last } }
      end
    end
    core.exec(client, "selfcoder.run", args, function(result)
      runs.add(result.runId, root, client.id, problem)
      -- the folder's name, not its path, and the id last: core.notify cuts the end on a narrow window
      core.notify(("run started in %s (:Selfcoder cancel stops it) (%s)"):format(vim.fn.fnamemodify(root, ":t"),
        result.runId))
    end)
  end)
end

function M.run(opts, rest)
  if rest ~= "" then
    return start_run(rest, opts)
  end
  local default = (opts.range and opts.range > 0) and "Fix the problem in the selected code." or nil
  vim.ui.input({ prompt = "selfcoder problem: ", default = default }, function(problem)
    if problem and vim.trim(problem) ~= "" then
      start_run(problem, opts)
    end
  end)
end

function M.cancel(_, id)
  in_project(function(client, root)
    local run = pick(root, id, { "running", "finishing" }, "cancel")
    if run then
      core.exec(client, "selfcoder.cancel", { runId = run.runId }, function()
        core.notify(("run %s: cancel requested"):format(run.runId))
      end)
    end
  end)
end

--- The run's patch (patch.diff in its run directory) in a read-only split.
function M.diff(_, id)
  in_project(function(client, root)
    local run = pick(root, id, nil, "show")
    if not run then
      return
    end
    core.exec(client, "selfcoder.status", { runId = run.runId }, function(result)
      local entry = result.runs[1]
      runs.update(entry)
      if type(entry.diffUri) ~= "string" then
        return core.notify(("run %s has no diff%s"):format(run.runId, entry.state == "running" and " yet" or ""), WARN)
      end
      vim.cmd("botright vsplit " .. vim.fn.fnameescape(vim.uri_to_fname(entry.diffUri)))
      local buf = vim.api.nvim_get_current_buf()
      vim.bo[buf].filetype, vim.bo[buf].readonly, vim.bo[buf].modifiable = "diff", true, false
      vim.bo[buf].bufhidden = "wipe"
      vim.b[buf].selfcoder_run = run.runId
    end)
  end)
end

function M.apply(_, id)
  in_project(function(client, root)
    local run = pick(root, id, { "finished" }, "apply")
    if not run then
      return
    end
    core.exec(client, "selfcoder.apply", { runId = run.runId }, function(result)
      local files = result.files or {}
      if runs.get(run.runId) then
        runs.get(run.runId).state = "applied"
      end
      if core.config.save_on_apply then
        for _, rel in ipairs(files) do
          local buf = vim.fn.bufnr(root .. "/" .. rel)
          if buf > 0 then
            vim.api.nvim_buf_call(buf, function() vim.cmd("silent write") end)
          end
        end
      end
      core.notify(("run %s applied to %s%s"):format(run.runId, table.concat(files, ", "),
        core.config.save_on_apply and " (saved)" or " — :wall saves"))
      vim.cmd("redrawstatus")
    end)
  end)
end

function M.discard(_, id)
  in_project(function(client, root)
    local run = pick(root, id, { "finished", "running", "finishing" }, "discard")
    if run then
      core.exec(client, "selfcoder.discard", { runId = run.runId }, function()
        if runs.get(run.runId) then
          runs.get(run.runId).state = "discarded"
        end
        core.notify(("run %s discarded"):format(run.runId))
        vim.cmd("redrawstatus")
      end)
    end
  end)
end

function M.status()
  in_project(function(client, root)
    core.exec(client, "selfcoder.status", {}, function(result)
      local lines = {}
      for _, entry in ipairs(result.runs or {}) do
        runs.update(entry)
        table.insert(lines, ("%s  %-9s %-10s %-9s steps=%d  %s"):format(entry.runId, entry.state,
          entry.status ~= "" and entry.status or "-", entry.phase, entry.steps or 0,
          table.concat(entry.touchedFiles or {}, ",")))
      end
      if #lines == 0 then
        return core.notify("no runs yet in " .. root .. " (:Selfcoder run <problem>)")
      end
      for i, line in ipairs(lines) do -- one screen row each: a wrapped row would hide the next run
        lines[i] = core.fit(line, vim.o.columns - 1)
      end
      vim.api.nvim_echo({ { table.concat(lines, "\n") } }, true, {})
    end)
  end)
end

--- Choose the agent (archive node) for the next runs, among those the server lists.
function M.agent(_, name)
  in_project(function(client)
    core.exec(client, "selfcoder.listAgents", {}, function(result)
      local ids = vim.tbl_map(function(a) return a.id end, result.agents or {})
      local function choose(id)
        if id then
          core.agent = id
          core.notify("agent for the next runs: " .. id)
        end
      end
      if name ~= "" then
        return vim.tbl_contains(ids, name) and choose(name)
          or core.notify(("unknown agent '%s' (the server lists: %s)"):format(name, table.concat(ids, ", ")), ERROR)
      end
      vim.ui.select(ids, { prompt = "selfcoder agent" }, choose)
    end)
  end)
end

--- The transcript (every window/logMessage of the selfcoder servers) in a scratch split.
function M.log()
  local buf = vim.fn.bufnr("selfcoder://transcript")
  if buf < 0 then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, "selfcoder://transcript")
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, runs.transcript)
    vim.bo[buf].modifiable = false
  end
  vim.cmd("botright split")
  vim.api.nvim_win_set_buf(0, buf)
end

function M.dispatch(opts)
  local sub, rest = (opts.args or ""):match("^%s*(%S*)%s*(.-)%s*$")
  if sub == "" then
    sub = "status"
  end
  if not vim.tbl_contains(M.subcommands, sub) then
    return core.notify(("unknown subcommand '%s' (one of: %s)"):format(sub, table.concat(M.subcommands, ", ")), ERROR)
  end
  return M[sub](opts, rest)
end

function M.complete(arglead, cmdline)
  if cmdline:match("^%S+%s+%S*$") then
    return vim.tbl_filter(function(s) return s:sub(1, #arglead) == arglead end, M.subcommands)
  end
  return {}
end

return M
