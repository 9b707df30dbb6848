"""papercycle.lsp: a thin language server that talks to the daemon; never runs a model."""
