"""The policy (model.py), its features and its training loop (train.py)."""
