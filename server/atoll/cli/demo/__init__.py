"""``atoll demo``: drive ``atoll serve`` over LSP on a sample workspace, as an editor would."""
