"""Parallel work: worker processes that die with their parent."""
