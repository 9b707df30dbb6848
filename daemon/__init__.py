"""papercycle.daemon: the long-lived local service that owns models, the LaTeX project model,
review formats, engines and the cache. Never imports torch."""
