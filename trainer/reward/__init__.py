"""Rewards: the reviewer's averaged rating (SimPO) and the rubric grade (GRPO)."""
