"""triage's storage: the decisions it made."""
