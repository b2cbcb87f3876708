"""atoll as an MCP server: the index's search, symbols, outline and definitions, and a
delegate tool that answers with the crew's diff (never applied). See docs/mcp.md."""
