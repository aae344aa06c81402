-- Headless Neovim 0.11 drives `selfcoder lsp`: start a run, wait for it, apply its patch to the
-- open buffer through workspace/applyEdit, and write what happened to $RESULT (JSON).
local out = {}
local function finish()
  local f = io.open(os.getenv("RESULT"), "w")
  f:write(vim.json.encode(out))
  f:close()
  vim.cmd("qa!")
end
local ok, err = pcall(function()
  local root = os.getenv("REPO")
  vim.cmd("edit " .. root .. "/calc/ops.py")
  local bufnr = vim.api.nvim_get_current_buf()
  local id = vim.lsp.start({
    name = "selfcoder",
    cmd = { os.getenv("SELFCODER_PYTHON"), "-m", "selfcoder", "lsp" },
    root_dir = root,
    init_options = vim.json.decode(os.getenv("INIT_OPTIONS")),
  })
  local client = vim.lsp.get_client_by_id(id)
  assert(vim.wait(60000, function() return client.initialized end, 100), "server did not initialise")
  local function exec(command, args)
    local res = client:request_sync("workspace/executeCommand", { command = command, arguments = { args } }, 60000, bufnr)
    assert(res, command .. ": no answer")
    assert(not res.err, command .. ": " .. vim.inspect(res.err))
    return res.result
  end
  local run = exec("selfcoder.run", { problem = os.getenv("PROBLEM"), folderUri = vim.uri_from_fname(root) })
  out.runId = run.runId
  local status
  assert(vim.wait(240000, function()
    status = exec("selfcoder.status", { runId = run.runId }).runs[1]
    return status.state ~= "running"
  end, 500), "the run did not finish")
  out.status = status.status
  out.apply = exec("selfcoder.apply", { runId = run.runId })
  out.buffer = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
  out.modified = vim.bo[bufnr].modified
end)
if not ok then out.error = tostring(err) end
finish()
