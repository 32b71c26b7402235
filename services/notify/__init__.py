"""notify: texts responders their assignments and reports delivery back to dispatch."""
