"""Explaining replay misses: from a pytest log to each miss, what is on disk for it, its cause and its fix."""
