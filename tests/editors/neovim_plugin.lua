-- Headless Neovim with the papercycle plugin (editors/neovim): setup{} starts the server on
-- the FileType autocommand, review diagnostics arrive, a code action is chosen through
-- Neovim's own vim.lsp.buf.code_action (vim.ui.select answered here), a draft is previewed as
-- virtual lines and accepted, a second one rejected, and the buffer is written.
local paper = os.getenv("PC_PAPER")
local out = os.getenv("PC_OUT")
local python = os.getenv("PC_PYTHON")
local result = { steps = {} }

local function step(name)
  table.insert(result.steps, name)
end

local function finish()
  local f = io.open(out, "w")
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd("qa!")
end

result.messages = {}
local original_notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(result.messages, tostring(msg))
  return original_notify(msg, level, opts)
end

local ok, err = pcall(function()
  vim.lsp.handlers["window/showMessage"] = function(_, params)
    table.insert(result.messages, params.message)
  end
  vim.opt.runtimepath:prepend(os.getenv("PC_PLUGIN"))
  local papercycle = require("papercycle")
  papercycle.setup({
    cmd = { python, "-m", "papercycle.cli", "lsp", "--stdio" },
    settings = { models = { section = "tiny-section", researcher = "tiny-researcher" } },
  })
  vim.cmd("edit " .. paper)
  local buf = vim.api.nvim_get_current_buf()
  result.filetype = vim.bo.filetype
  assert(vim.wait(30000, function() return papercycle.client(buf) ~= nil end, 50), "not attached")
  step("attached")

  local function review_diags()
    local found = {}
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.source == "papercycle" and d.code ~= "hidden-injection" and d.code ~= "hidden-text" then
        table.insert(found, d)
      end
    end
    return found
  end

  assert(vim.wait(180000, function() return #review_diags() > 0 end, 100), "no diagnostics")
  local diags = review_diags()
  result.diagnostics = #diags
  result.diagnostic_lines = {}
  for _, d in ipairs(diags) do
    table.insert(result.diagnostic_lines, d.lnum)
  end
  step("diagnostics")

  -- a code action through Neovim's own UI path
  local target = diags[1]
  vim.api.nvim_win_set_cursor(0, { target.lnum + 1, target.col })
  result.actions = {}
  local chosen = false
  vim.ui.select = function(items, opts, on_choice)
    local pick
    for i, item in ipairs(items) do
      local title = opts.format_item and opts.format_item(item) or tostring(item)
      table.insert(result.actions, title)
      if not pick and title == "Dismiss this comment (" .. target.code .. ")" then
        pick = i
      end
    end
    chosen = pick ~= nil
    on_choice(pick and items[pick] or nil, pick)
  end
  vim.lsp.buf.code_action()
  assert(vim.wait(30000, function() return chosen end, 50), "no Dismiss code action offered")
  local function shown(message)
    for _, d in ipairs(review_diags()) do
      if d.message == message then
        return true
      end
    end
    return false
  end
  assert(vim.wait(30000, function() return not shown(target.message) end, 50), "comment still shown")
  result.dismissed_gone = true
  step("code action")

  -- a draft: preview (virtual lines), then accept
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local method_line
  for i, line in ipairs(lines) do
    if line:find("^\\section{Method}") then
      method_line = i
    end
  end
  assert(method_line, "no Method heading")
  vim.api.nvim_win_set_cursor(0, { method_line + 1, 0 })
  local before = table.concat(lines, "\n")
  local statuses = {}
  local timer = vim.loop.new_timer()
  timer:start(0, 50, vim.schedule_wrap(function()
    local s = papercycle.statusline()
    if s ~= "" and statuses[#statuses] ~= s and #statuses < 50 then
      table.insert(statuses, s)
    end
  end))
  vim.cmd("PapercycleDraft")
  local function ready()
    for _, d in pairs(papercycle._state.drafts) do
      if d.edit then
        return d
      end
    end
  end
  assert(vim.wait(240000, function() return ready() ~= nil end, 100), "no draft offered")
  local draft = ready()
  result.draft_chunks = #draft.text
  result.draft_text = draft.edit_text
  local marks = vim.api.nvim_buf_get_extmarks(buf, vim.api.nvim_create_namespace("papercycle_draft"), 0, -1, { details = true })
  result.preview_lines = 0
  for _, m in ipairs(marks) do
    result.preview_lines = result.preview_lines + #((m[4] or {}).virt_lines or {})
  end
  result.unchanged_while_previewing = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n") == before
  step("preview")
  vim.cmd("PapercycleAccept")
  local after = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
  result.accepted = after ~= before
  result.buffer = after
  marks = vim.api.nvim_buf_get_extmarks(buf, vim.api.nvim_create_namespace("papercycle_draft"), 0, -1, {})
  result.marks_after_accept = #marks
  step("accepted")

  -- a second draft (another section: Method grew), rejected: the buffer stays as it was
  local experiments_line
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:find("^\\section{Experiments}") then
      experiments_line = i
    end
  end
  assert(experiments_line, "no Experiments heading")
  vim.api.nvim_win_set_cursor(0, { experiments_line + 1, 0 })
  vim.cmd("PapercycleDraft")
  assert(vim.wait(120000, function() return ready() ~= nil end, 100), "no second draft offered")
  vim.cmd("PapercycleReject")
  result.rejected_unchanged = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n") == after
  result.drafts_left = vim.tbl_count(papercycle._state.drafts)
  step("rejected")
  timer:stop()
  result.statuses = statuses
  result.seen_progress = papercycle._state.seen_progress

  vim.cmd("write")
  step("written")
end)
if not ok then
  result.error = tostring(err)
end
finish()
