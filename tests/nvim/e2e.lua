-- End-to-end test in a real Neovim (0.7+, headless, built-in vim.lsp):
-- open a bad uwsgi.ini in a multi-file project, read back the diagnostics
-- and a hover, change the ECS memory limit in an unsaved buffer, apply the
-- UW101 code action. Results go to $RESULT as JSON for the Rust test to
-- compare with `check --format json`. Paths come from the environment.
local root = os.getenv('PROJECT')
local server = os.getenv('SERVER')
local result_path = os.getenv('RESULT')
local bound = 60000 -- ms; a hang becomes a failure, nothing waits on time

local result = { steps = {} }

local function finish(err)
  result.error = err
  local f = assert(io.open(result_path, 'w'))
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd(err and 'cquit!' or 'qall!')
end

local function codes(buf)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(out, d.user_data and d.user_data.lsp and d.user_data.lsp.code or d.code)
  end
  table.sort(out)
  return out
end

local function has(list, x)
  for _, v in ipairs(list) do
    if v == x then return true end
  end
  return false
end

local ok, err = pcall(function()
  local client_id = vim.lsp.start_client({
    name = 'uwsgi-lint',
    cmd = { server, 'lsp' },
    cmd_cwd = root,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = 'project' } },
    init_options = { debounceMs = 20 },
  })
  assert(client_id, 'the server did not start')

  local ini = root .. '/deploy/uwsgi.ini'
  vim.cmd('edit ' .. vim.fn.fnameescape(ini))
  local ini_buf = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(ini_buf, client_id)
  assert(vim.wait(bound, function() return #vim.diagnostic.get(ini_buf) > 0 end, 20),
    'no diagnostics for uwsgi.ini')

  local diags = {}
  for _, d in ipairs(vim.diagnostic.get(ini_buf)) do
    local lsp = d.user_data and d.user_data.lsp or {}
    table.insert(diags, {
      code = lsp.code or d.code,
      severity = d.severity,
      message = d.message,
      lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
      related = lsp.relatedInformation and #lsp.relatedInformation or 0,
    })
  end
  result.diagnostics = diags

  -- Hover on `reload-on-rss`.
  local line, col
  for i, l in ipairs(vim.api.nvim_buf_get_lines(ini_buf, 0, -1, false)) do
    local c = l:find('reload-on-rss', 1, true)
    if c then line, col = i - 1, c end
  end
  local hover = vim.lsp.buf_request_sync(ini_buf, 'textDocument/hover', {
    textDocument = { uri = vim.uri_from_bufnr(ini_buf) },
    position = { line = line, character = col },
  }, bound)
  for _, r in pairs(hover or {}) do
    if r.result then result.hover = r.result.contents.value end
  end

  -- The ECS memory limit, changed in a buffer and not saved.
  local task = root .. '/ecs/task-definition.json'
  vim.cmd('edit ' .. vim.fn.fnameescape(task))
  local task_buf = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(task_buf, client_id)
  for i, l in ipairs(vim.api.nvim_buf_get_lines(task_buf, 0, -1, false)) do
    if l:find('"memory": "1024"', 1, true) then
      local new = l:gsub('"memory": "1024"', '"memory": "8192"')
      vim.api.nvim_buf_set_lines(task_buf, i - 1, i, false, { new })
    end
  end
  table.insert(result.steps, { before = codes(ini_buf) })
  assert(vim.wait(bound, function() return not has(codes(ini_buf), 'UW202') end, 20),
    'UW202 stayed after the unsaved change')
  result.modified_unsaved = vim.api.nvim_buf_get_option(task_buf, 'modified')
  table.insert(result.steps, { after_limit_change = codes(ini_buf) })

  -- The UW101 code action, applied.
  local uw101
  for _, d in ipairs(vim.diagnostic.get(ini_buf)) do
    local lsp = d.user_data and d.user_data.lsp or {}
    if (lsp.code or d.code) == 'UW101' then
      -- Neovim keeps the protocol's fields but not the range: rebuild it.
      uw101 = vim.tbl_extend('force', lsp, {
        range = {
          start = { line = d.lnum, character = d.col },
          ['end'] = { line = d.end_lnum, character = d.end_col },
        },
        message = d.message,
        severity = d.severity,
      })
    end
  end
  assert(uw101, 'no UW101')
  local actions = vim.lsp.buf_request_sync(ini_buf, 'textDocument/codeAction', {
    textDocument = { uri = vim.uri_from_bufnr(ini_buf) },
    range = uw101.range,
    context = { diagnostics = { uw101 } },
  }, bound)
  local applied = false
  for _, r in pairs(actions or {}) do
    if r.err then error('codeAction failed: ' .. vim.inspect(r.err)) end
    for _, a in ipairs(r.result or {}) do
      if not applied and a.title:find('^Fix UW101') then
        vim.lsp.util.apply_workspace_edit(a.edit, 'utf-16')
        applied = a.title
      end
    end
  end
  assert(applied, 'no UW101 fix offered: ' .. vim.inspect(actions))
  result.applied = applied
  assert(vim.wait(bound, function() return not has(codes(ini_buf), 'UW101') end, 20),
    'UW101 stayed after its fix')
  result.ini_after_fix = vim.api.nvim_buf_get_lines(ini_buf, 0, -1, false)
  table.insert(result.steps, { after_fix = codes(ini_buf) })
end)

finish(not ok and tostring(err) or nil)
