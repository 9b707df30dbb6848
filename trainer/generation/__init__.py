"""llama.cpp generation in a child process (sampling drafts, reviewer scoring, grading)."""
