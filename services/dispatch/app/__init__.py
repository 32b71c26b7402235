"""dispatch's application layer: intake, event handlers, read views."""
