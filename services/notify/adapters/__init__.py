"""notify's storage and SMS backends."""
