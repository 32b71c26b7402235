"""Triage rules as pure functions of (call, policy): no I/O, no framework."""
