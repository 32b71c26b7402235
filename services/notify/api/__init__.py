"""notify's HTTP surface."""
