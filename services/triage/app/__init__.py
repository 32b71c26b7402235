"""triage's handlers: one per event it consumes."""
