-- papercycle for Neovim: the papercycle language server on tex/latex buffers, user commands,
-- a draft preview (virtual lines) with accept/reject, and progress for the status line.
-- Works on Neovim 0.7 (vim.lsp.start_client + buf_attach_client) and 0.8+ (vim.lsp.start).
local M = {}

local defaults = {
  cmd = { "papercycle", "lsp" },
  filetypes = { "tex", "latex", "plaintex" },
  -- the project root: the nearest folder holding one of these, else the file's folder
  root_markers = { ".papercycle.toml", ".papercycle", ".latexmkrc", "latexmkrc", ".git" },
  -- the `papercycle` settings section (also sent as initializationOptions), e.g.
  -- { models = { reviewer = "deepreviewer-7b" }, checkFrequency = "save" }
  settings = {},
  on_attach = nil, -- function(client, bufnr)
  capabilities = nil, -- e.g. from cmp_nvim_lsp
  preview_hl = "Comment",
  preview_max_lines = 60,
}

local config = vim.deepcopy(defaults)
local ns = vim.api.nvim_create_namespace("papercycle_draft")
local state = {
  clients = {}, -- root -> client id (Neovim 0.7)
  progress = {}, -- token -> { title, message, percentage }
  drafts = {}, -- draft id -> { id, uri, bufnr, section, text, done, cancelled, line, edit }
  requested = {}, -- bufnr -> the line a draft was asked for (where its preview starts)
  seen_progress = false,
  failure = nil, -- the end message of a review that failed, shown until the next one starts
}
M._state = state

local function notify(msg, level)
  vim.notify("papercycle: " .. msg, level or vim.log.levels.INFO)
end

local function has(version)
  return vim.fn.has("nvim-" .. version) == 1
end

local function request(client, method, params, handler, bufnr)
  if has("0.11") then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function all_clients()
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ name = "papercycle" })
  end
  local out = {}
  for _, c in pairs(vim.lsp.get_active_clients()) do
    if c.name == "papercycle" then
      table.insert(out, c)
    end
  end
  return out
end

--- The papercycle client attached to `bufnr` (the current buffer by default).
function M.client(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  for _, c in ipairs(all_clients()) do
    if vim.lsp.buf_is_attached(bufnr, c.id) then
      return c
    end
  end
  return nil
end

local function find_root(fname)
  local dir = vim.fn.fnamemodify(fname, ":p:h")
  local here = dir
  while here and here ~= "" do
    for _, marker in ipairs(config.root_markers) do
      if vim.loop.fs_stat(here .. "/" .. marker) then
        return here
      end
    end
    local parent = vim.fn.fnamemodify(here, ":h")
    if parent == here then
      break
    end
    here = parent
  end
  return dir
end
M._find_root = find_root -- for tests

-- Draft preview ------------------------------------------------------------------------

local function split_lines(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("(.-)\n") do
    table.insert(lines, line)
  end
  return lines
end

local function render(draft)
  local bufnr = draft.bufnr
  if not bufnr or not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  if draft.mark then
    pcall(vim.api.nvim_buf_del_extmark, bufnr, ns, draft.mark)
    draft.mark = nil
  end
  if draft.closed then
    return
  end
  local status
  if draft.cancelled then
    status = "cancelled"
  elseif draft.edit then
    status = "ready: :PapercycleAccept inserts it, :PapercycleReject drops it"
  elseif draft.done then
    status = "done"
  else
    status = "streaming…"
  end
  local virt = { { { "┌ papercycle draft of " .. draft.section .. " (" .. status .. ")", "Title" } } }
  local body = split_lines(draft.edit_text or draft.text)
  for i, line in ipairs(body) do
    if i > config.preview_max_lines then
      table.insert(virt, { { "│ … " .. (#body - i + 1) .. " more lines", config.preview_hl } })
      break
    end
    table.insert(virt, { { "│ " .. line, config.preview_hl } })
  end
  table.insert(virt, { { "└", "Title" } })
  local count = vim.api.nvim_buf_line_count(bufnr)
  local line = math.max(0, math.min(draft.line or 0, count - 1))
  local above = draft.edit ~= nil and (draft.line or 0) < count
  draft.mark = vim.api.nvim_buf_set_extmark(bufnr, ns, line, 0, {
    virt_lines = virt,
    virt_lines_above = above,
  })
end

local function draft_for(id, uri)
  local draft = state.drafts[id]
  if draft then
    return draft
  end
  local bufnr = vim.uri_to_bufnr(uri)
  draft = { id = id, uri = uri, bufnr = bufnr, section = "", text = "", line = state.requested[bufnr] }
  state.drafts[id] = draft
  return draft
end

local function on_draft(err, params, ctx)
  if err or type(params) ~= "table" then
    return
  end
  local draft = draft_for(params.id, params.uri)
  draft.section = params.section or draft.section
  draft.client_id = ctx and ctx.client_id or draft.client_id
  draft.text = draft.text .. (params.chunk or "")
  if params.done then
    draft.done = true
    draft.cancelled = params.cancelled and true or nil
    if draft.cancelled then
      notify("draft of " .. draft.section .. " cancelled")
      vim.defer_fn(function()
        draft.closed = true
        render(draft)
        state.drafts[draft.id] = nil
      end, 1500)
    end
  end
  render(draft)
end

local function edit_target(edit)
  -- the first text edit of a WorkspaceEdit: uri, version, TextEdit
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.textDocument and change.edits and change.edits[1] then
      return change.textDocument.uri, change.textDocument.version, change.edits[1]
    end
  end
  for uri, edits in pairs(edit.changes or {}) do
    if edits[1] then
      return uri, nil, edits[1]
    end
  end
end

-- The server offers a finished draft as workspace/applyEdit labelled "papercycle: draft of
-- ...". It is held here as a preview: the user accepts (the same edit is applied, as Neovim
-- would have) or rejects it; the server is answered `applied = false` at once (Neovim answers
-- server requests synchronously).
local function on_apply_edit(err, params, ctx, cfg)
  local label = params and params.label or ""
  if label:find("^papercycle: draft of ") then
    local uri, version, text_edit = edit_target(params.edit)
    local draft
    for _, d in pairs(state.drafts) do
      if d.done and not d.edit and not d.cancelled and (d.uri == uri or not draft) then
        draft = d
      end
    end
    if not draft then
      draft = draft_for("edit-" .. tostring(vim.loop.hrtime()), uri)
      draft.section = label:gsub("^papercycle: draft of ", "")
      draft.done = true
    end
    draft.bufnr = vim.uri_to_bufnr(uri)
    draft.uri = uri
    draft.client_id = ctx.client_id
    draft.edit = params.edit
    draft.version = version
    draft.edit_text = text_edit.newText
    draft.line = text_edit.range.start.line
    render(draft)
    notify("draft of " .. draft.section .. " ready: :PapercycleAccept or :PapercycleReject")
    return { applied = false, failureReason = "held for the user's review (papercycle preview)" }
  end
  return vim.lsp.handlers["workspace/applyEdit"](err, params, ctx, cfg)
end

local function latest_draft(bufnr)
  local best
  for _, d in pairs(state.drafts) do
    if d.edit and (bufnr == nil or d.bufnr == bufnr) then
      best = d
    end
  end
  if not best and bufnr ~= nil then
    return latest_draft(nil)
  end
  return best
end

--- Insert the previewed draft (the server's edit, unless the buffer changed since).
function M.accept(bufnr)
  local draft = latest_draft(bufnr or vim.api.nvim_get_current_buf())
  if not draft then
    notify("no draft to accept", vim.log.levels.WARN)
    return false
  end
  local current = vim.lsp.util.buf_versions[draft.bufnr]
  if draft.version and current and current > draft.version then
    notify("the buffer changed since the draft was made; draft not inserted (ask again)", vim.log.levels.WARN)
    return false
  end
  local client = vim.lsp.get_client_by_id(draft.client_id)
  local encoding = client and client.offset_encoding or "utf-16"
  vim.lsp.util.apply_workspace_edit(draft.edit, encoding)
  draft.closed = true
  render(draft)
  state.drafts[draft.id] = nil
  notify("draft of " .. draft.section .. " inserted (not saved)")
  return true
end

--- Drop the previewed (or streaming) draft.
function M.reject(bufnr)
  local draft = latest_draft(bufnr or vim.api.nvim_get_current_buf())
  if not draft then
    for _, d in pairs(state.drafts) do
      draft = d
    end
  end
  if not draft then
    notify("no draft to reject", vim.log.levels.WARN)
    return false
  end
  draft.closed = true
  render(draft)
  state.drafts[draft.id] = nil
  return true
end

-- Progress -------------------------------------------------------------------------------

local function on_progress(err, result, ctx, cfg)
  local default = vim.lsp.handlers["$/progress"]
  if default then
    pcall(default, err, result, ctx, cfg)
  end
  if err or type(result) ~= "table" or type(result.value) ~= "table" then
    return
  end
  local token, value = tostring(result.token), result.value
  state.seen_progress = true
  if value.kind == "end" then
    state.progress[token] = nil
    -- "all 26 sections failed: ..." stays in the status line; "done" does not
    if type(value.message) == "string" and value.message:find("failed") then
      state.failure = value.message
    end
    state.last_status = M.statusline()
  else
    if value.kind == "begin" then
      state.failure = nil
    end
    local entry = state.progress[token] or {}
    entry.title = value.title or entry.title
    entry.message = value.message or entry.message
    entry.percentage = value.percentage or entry.percentage
    state.progress[token] = entry
    state.last_status = M.statusline()
  end
  pcall(vim.cmd, "redrawstatus")
end

--- A short text for the status line ("" when idle), e.g. in a statusline:
--- `%{v:lua.require'papercycle'.statusline()}`
function M.statusline()
  local parts = {}
  for _, p in pairs(state.progress) do
    local text = (p.title or "papercycle"):gsub("^papercycle: ", "")
    if p.percentage then
      text = text .. " " .. p.percentage .. "%"
    end
    if p.message and p.message ~= "" then
      text = text .. " " .. p.message
    end
    table.insert(parts, text)
  end
  for _, d in pairs(state.drafts) do
    if d.edit then
      table.insert(parts, "draft ready")
    elseif not d.done then
      table.insert(parts, "drafting " .. d.section)
    end
  end
  if #parts == 0 and state.failure then
    table.insert(parts, state.failure)
  end
  if #parts == 0 then
    return ""
  end
  return "papercycle: " .. table.concat(parts, " · ")
end

-- Commands --------------------------------------------------------------------------------

local function execute(command, arguments, on_result)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    notify("no papercycle server for this buffer", vim.log.levels.WARN)
    return
  end
  request(client, "workspace/executeCommand", { command = command, arguments = arguments }, function(err, result)
    if err then
      notify(command .. " failed: " .. (err.message or vim.inspect(err)), vim.log.levels.WARN)
    elseif on_result then
      on_result(result)
    end
  end, bufnr)
end

local function cursor_args()
  local params = vim.lsp.util.make_position_params()
  return { params.textDocument.uri, params.position }
end

function M.review()
  execute("papercycle.reviewDocument", { vim.uri_from_bufnr(0) })
end

function M.review_section()
  execute("papercycle.reviewSection", cursor_args())
end

function M.draft()
  local bufnr = vim.api.nvim_get_current_buf()
  state.requested[bufnr] = vim.api.nvim_win_get_cursor(0)[1] - 1
  execute("papercycle.draftSection", cursor_args())
end

function M.cancel()
  execute("papercycle.cancel", {}, function(result)
    local names = result and result.cancelled or {}
    notify(#names > 0 and ("cancelled " .. table.concat(names, ", ")) or "nothing to cancel")
  end)
end

function M.status()
  execute("papercycle.showStatus", {})
end

local handlers = {
  ["papercycle/draft"] = on_draft,
  ["workspace/applyEdit"] = on_apply_edit,
  ["$/progress"] = on_progress,
}

local function client_config(bufnr)
  local root = find_root(vim.api.nvim_buf_get_name(bufnr))
  return {
    name = "papercycle",
    cmd = config.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    init_options = config.settings,
    settings = { papercycle = config.settings },
    handlers = handlers,
    capabilities = config.capabilities,
    on_attach = config.on_attach,
  }
end

--- Start (or reuse) the server for a buffer and attach it.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if vim.api.nvim_buf_get_name(bufnr) == "" then
    return nil
  end
  local cfg = client_config(bufnr)
  if vim.lsp.start then
    return vim.lsp.start(cfg, { bufnr = bufnr })
  end
  local id = state.clients[cfg.root_dir]
  local client = id and vim.lsp.get_client_by_id(id)
  if not client or client.is_stopped() then
    id = vim.lsp.start_client(cfg)
    state.clients[cfg.root_dir] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

local function user_commands()
  local commands = {
    PapercycleReview = { M.review, "Review the whole paper now" },
    PapercycleReviewSection = { M.review_section, "Review the section under the cursor" },
    PapercycleDraft = { M.draft, "Draft the section under the cursor (preview, then accept/reject)" },
    PapercycleAccept = { function() M.accept() end, "Insert the previewed draft" },
    PapercycleReject = { function() M.reject() end, "Drop the previewed draft" },
    PapercycleCancel = { M.cancel, "Cancel papercycle's running reviews and drafts" },
    PapercycleStatus = { M.status, "Show the daemon's and this window's status" },
  }
  for name, spec in pairs(commands) do
    vim.api.nvim_create_user_command(name, spec[1], { desc = spec[2] })
  end
end

function M.setup(opts)
  config = vim.tbl_deep_extend("force", vim.deepcopy(defaults), opts or {})
  user_commands()
  local group = vim.api.nvim_create_augroup("papercycle", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = config.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(config.filetypes, vim.bo[bufnr].filetype) then
      M.attach(bufnr)
    end
  end
end

M.handlers = handlers
return M
