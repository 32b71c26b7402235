"""Dispatch decisions as pure functions: recommendation, ETA, codes. No I/O, no framework."""
