-- Headless Neovim following the README's "use a real reviewer" steps: the plugin set up with
-- the real SmolLM2 registered as a reviewer (deepreviewer format) and the default reviewMode.
-- Waits for the first of its two visible outcomes (review diagnostics, or a window message
-- about a review) and writes what it saw: each diagnostic with the buffer text of its range,
-- and every message.
local paper = os.getenv("PC_PAPER")
local out = os.getenv("PC_OUT")
local python = os.getenv("PC_PYTHON")
local model = os.getenv("PC_MODEL")
local result = { messages = {}, diagnostics = {} }

local ok, err = pcall(function()
  vim.lsp.handlers["window/showMessage"] = function(_, params)
    table.insert(result.messages, params.message)
  end
  vim.opt.runtimepath:prepend(os.getenv("PC_PLUGIN"))
  local papercycle = require("papercycle")
  papercycle.setup({
    cmd = { python, "-m", "papercycle.cli", "lsp", "--stdio" },
    settings = { models = { reviewer = model, section = model } },
  })
  vim.cmd("edit " .. paper)
  local buf = vim.api.nvim_get_current_buf()
  assert(vim.wait(30000, function() return papercycle.client(buf) ~= nil end, 50), "not attached")

  local function review_diags()
    local found = {}
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.source == "papercycle" and d.code ~= "hidden-injection" and d.code ~= "hidden-text" then
        table.insert(found, d)
      end
    end
    return found
  end
  local function review_messages()
    local found = {}
    for _, m in ipairs(result.messages) do
      if m:find("review", 1, true) then
        table.insert(found, m)
      end
    end
    return found
  end
  -- every section answers (a comment or a message): wait for one of each outcome or 3 messages
  local seen = vim.wait(400000, function()
    return #review_diags() > 0 or #review_messages() >= 3
  end, 200)
  result.waited_for = "review diagnostics, or three window messages about reviews"
  result.outcome_seen = seen
  for _, d in ipairs(review_diags()) do
    local lines = vim.api.nvim_buf_get_text(buf, d.lnum, d.col, d.end_lnum, d.end_col, {})
    table.insert(result.diagnostics, {
      message = d.message,
      code = d.code,
      lnum = d.lnum,
      text = table.concat(lines, "\n"),
    })
  end
end)
if not ok then
  result.error = tostring(err)
end
local f = io.open(out, "w")
f:write(vim.fn.json_encode(result))
f:close()
vim.cmd("qa!")
