-- Headless Neovim with the papercycle plugin and no reviewer model configured: every section
-- fails before the server subscribes. What the user sees is recorded: the error diagnostic on
-- \documentclass, the window messages, and the status line once the review ended.
local paper = os.getenv("PC_PAPER")
local out = os.getenv("PC_OUT")
local python = os.getenv("PC_PYTHON")
local result = { messages = {}, statuses = {} }

local function finish()
  local f = io.open(out, "w")
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd("qa!")
end

local ok, err = pcall(function()
  vim.lsp.handlers["window/showMessage"] = function(_, params)
    table.insert(result.messages, { type = params.type, message = params.message })
  end
  vim.opt.runtimepath:prepend(os.getenv("PC_PLUGIN"))
  local papercycle = require("papercycle")
  papercycle.setup({ cmd = { python, "-m", "papercycle.cli", "lsp", "--stdio" }, settings = {} })
  vim.cmd("edit " .. paper)
  local buf = vim.api.nvim_get_current_buf()
  assert(vim.wait(30000, function() return papercycle.client(buf) ~= nil end, 50), "not attached")

  local function failures()
    local found = {}
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.source == "papercycle" and d.code == "review-failed" then
        table.insert(found, d)
      end
    end
    return found
  end

  assert(vim.wait(120000, function() return #failures() > 0 end, 100), "no review-failed diagnostic")
  local diag = failures()[1]
  result.failures = #failures()
  result.line = vim.api.nvim_buf_get_lines(buf, diag.lnum, diag.lnum + 1, false)[1]:sub(diag.col + 1)
  result.severity = diag.severity == vim.diagnostic.severity.ERROR and "error" or tostring(diag.severity)
  result.message = diag.message
  local ended = vim.wait(60000, function()
    local line = papercycle.statusline()
    if result.statuses[#result.statuses] ~= line then
      table.insert(result.statuses, line)
    end
    return line:find("sections failed") ~= nil
  end, 100)
  result.status = papercycle.statusline()
  result.ended = ended
end)
if not ok then
  result.error = tostring(err)
end
finish()
