"""Training recipes: one config dataclass and one function per recipe, over trl trainers."""
