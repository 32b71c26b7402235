"""dispatch: owns incidents, responder units and assignments, and serves the dispatcher's API."""
