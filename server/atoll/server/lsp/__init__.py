"""LSP plumbing every feature shares, each piece in one place and testable without a server.

- :mod:`.positions`: LSP positions ↔ Python string offsets in the negotiated encoding.
- :mod:`.texts`: a file's current text, the open buffer before the disk, decoded one way.
- :mod:`.edits`: text edits and workspace-edit pieces (line-based, encoding-independent).
- :mod:`.progress`: one work-done progress bar (a no-op for clients without one).
- :mod:`.capabilities`: what the client announced it supports.
- :mod:`.conversions`: URIs, workspace-relative names and messages to the user.
- :mod:`.per_server`: state a feature keeps per server, for module-level handlers.
"""
