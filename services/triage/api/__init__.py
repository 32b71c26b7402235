"""triage's HTTP surface: preview and policies."""
