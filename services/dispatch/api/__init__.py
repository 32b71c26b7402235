"""dispatch's public API, one router per resource."""
