"""The fuzz driver and its targets (see run.py)."""
