-- Headless Neovim as a real atoll client: initialize, document symbols, hover, inline
-- completion (when this Neovim has it). Writes what it saw as JSON to $SMOKE_OUT.
-- With $SMOKE_CMD it starts the server itself; without, the user's init.lua must.
local out = {}
local function finish()
  local fh = assert(io.open(os.getenv("SMOKE_OUT"), "w"))
  fh:write(vim.json.encode(out))
  fh:close()
  vim.cmd("qall!")
end

local ok, err = pcall(function()
  local root = os.getenv("SMOKE_WS")
  local file = root .. "/" .. os.getenv("SMOKE_FILE")
  local line = tonumber(os.getenv("SMOKE_LINE"))
  local col = tonumber(os.getenv("SMOKE_COL"))
  vim.cmd.edit(file)
  local bufnr = vim.api.nvim_get_current_buf()
  local client
  if os.getenv("SMOKE_CMD") then
    local id = vim.lsp.start({
      name = "atoll",
      cmd = vim.json.decode(os.getenv("SMOKE_CMD")),
      root_dir = root,
      init_options = { completion = { warmup = false } },
    }, { bufnr = bufnr })
    client = assert(vim.lsp.get_client_by_id(id), "no client")
  else
    -- The user's init.lua (the documented config) starts it when the buffer opens.
    vim.wait(30000, function()
      client = vim.lsp.get_clients({ bufnr = bufnr, name = "atoll" })[1]
      return client ~= nil
    end, 50)
    assert(client, "the config started no atoll client for " .. file)
    out.cmd = client.config.cmd
    out.root_dir = client.config.root_dir
  end
  out.initialized = vim.wait(30000, function() return client.initialized end, 50)
  out.server = client.server_info
  local caps = client.server_capabilities or {}
  out.hover_provider = caps.hoverProvider ~= nil
  out.inline_provider = caps.inlineCompletionProvider ~= nil

  local doc = { textDocument = vim.lsp.util.make_text_document_params(bufnr) }
  local function request(method, params)
    local res = client:request_sync(method, params, 20000, bufnr)
    if res == nil then return nil, "timeout" end
    return res.result, res.err
  end

  local symbols
  vim.wait(30000, function()
    symbols = request("textDocument/documentSymbol", doc)
    return symbols ~= nil and #symbols > 0
  end, 200)
  out.symbols = {}
  for _, s in ipairs(symbols or {}) do table.insert(out.symbols, s.name) end

  local status = request("workspace/executeCommand", { command = "atoll.status", arguments = {} })
  out.config_issues = status and status.config_issues or vim.NIL

  local at = vim.tbl_extend("force", doc, { position = { line = line, character = col } })
  local hover
  vim.wait(30000, function()
    hover = request("textDocument/hover", at)
    return hover ~= nil
  end, 200)
  out.hover = hover and hover.contents and (hover.contents.value or hover.contents) or vim.NIL
  -- Neovim renders it like this in the hover window: the conversion must accept it.
  if hover then
    out.hover_lines = #vim.lsp.util.convert_input_to_markdown_lines(hover.contents)
  end

  out.has_inline_completion = vim.lsp.inline_completion ~= nil
  if out.has_inline_completion and out.inline_provider then
    local end_line = vim.api.nvim_buf_line_count(bufnr)
    local params = vim.tbl_extend("force", doc, {
      position = { line = end_line, character = 0 },
      context = { triggerKind = 1 },
    })
    local result, e = request("textDocument/inlineCompletion", params)
    out.inline_error = e and e.message or vim.NIL
    local items = result and (result.items or result) or {}
    out.inline_items = #items
  end
end)
if not ok then out.error = tostring(err) end
finish()
