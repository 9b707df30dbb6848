"""Evaluation: reviewer metrics against human reviews, researcher scores under a reviewer."""
