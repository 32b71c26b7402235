"""dispatch's storage and outside-world adapters."""
