"""Models the daemon serves: GGUF metadata, the registry, and the backends that run them."""
