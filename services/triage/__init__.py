"""triage: classifies each call and decides which responders it needs, and why."""
