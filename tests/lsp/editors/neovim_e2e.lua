-- Headless Neovim (0.7.2: vim.lsp.start_client + buf_attach_client) against `papercycle lsp`.
-- Opens the paper, waits for diagnostics, asks for code actions on one, runs "Dismiss this
-- comment" (a server command) as Neovim's code action menu would, and writes what it saw.
local paper = os.getenv("PC_PAPER")
local out = os.getenv("PC_OUT")
local python = os.getenv("PC_PYTHON")
local result = { diagnostics = 0, actions = {}, executed = false, after = -1, error = nil }

local function finish()
  local f = io.open(out, "w")
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd("qa!")
end

local ok, err = pcall(function()
  vim.cmd("edit " .. paper)
  local buf = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "papercycle",
    cmd = { python, "-m", "papercycle.cli", "lsp", "--stdio" },
    root_dir = vim.fn.fnamemodify(paper, ":h"),
    init_options = { models = { section = "tiny-section" } },
  })
  assert(client_id, "start_client failed")
  vim.lsp.buf_attach_client(buf, client_id)
  local client = vim.lsp.get_client_by_id(client_id)

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
  local target = diags[1]
  result.code = target.code
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = {
      start = { line = target.lnum, character = target.col },
      ["end"] = { line = target.end_lnum, character = target.end_col },
    },
    context = { diagnostics = {} },
  }
  local answers = vim.lsp.buf_request_sync(buf, "textDocument/codeAction", params, 30000)
  local chosen = nil
  for _, answer in pairs(answers or {}) do
    for _, action in ipairs(answer.result or {}) do
      table.insert(result.actions, action.title)
      if action.title:find("^Dismiss this comment") then chosen = action end
    end
  end
  assert(chosen, "no dismiss action")
  -- what Neovim does with a chosen action: apply its edit, then run its command on the server
  if chosen.edit then vim.lsp.util.apply_workspace_edit(chosen.edit, client.offset_encoding) end
  local command = type(chosen.command) == "table" and chosen.command or chosen
  local done = false
  client.request("workspace/executeCommand", command, function(e, r)
    result.executed = e == nil
    done = true
  end, buf)
  assert(vim.wait(30000, function() return done end, 50), "command never answered")
  assert(vim.wait(30000, function() return #review_diags() < #diags end, 50), "still shown")
  result.after = #review_diags()
end)
if not ok then result.error = tostring(err) end
finish()
