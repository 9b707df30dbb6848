"""Recipe name → (config class, run function). Importing this never imports torch."""

from __future__ import annotations

from papercycle.trainer.recipes.grpo import RubricGRPOConfig, run_rubric_grpo
from papercycle.trainer.recipes.sft import SFTResearcherConfig, SFTReviewerConfig, run_sft
from papercycle.trainer.recipes.simpo import SimPOConfig, run_simpo

RECIPES = {
    "sft-reviewer": (SFTReviewerConfig, run_sft),
    "sft-researcher": (SFTResearcherConfig, run_sft),
    "simpo": (SimPOConfig, run_simpo),
    "rubric-grpo": (RubricGRPOConfig, run_rubric_grpo),
}
