"""The `papercycle` command line: thin commands over the daemon, LSP and trainer libraries."""
