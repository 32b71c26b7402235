"""Test support: the real stack in-process or as processes, databases, polling helpers."""
