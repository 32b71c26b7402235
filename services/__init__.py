"""corespond's three services (triage, dispatch, notify), their shared runtime and the CLI."""
