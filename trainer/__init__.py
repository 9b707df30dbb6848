"""papercycle.trainer: training recipes, evaluation and export to GGUF (the `train` extra).

Import torch only inside submodules that need it, so `papercycle.trainer.export`'s
llama.cpp side can run in a process without torch.
"""
