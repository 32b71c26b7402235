"""Message content and delivery rules: pure, no I/O, no framework."""
