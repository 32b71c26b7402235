"""dispatch's error tree (mapped to problem+json in one place, ``main.py``).

DispatchError
├── IncidentNotFound      404
└── UnitNotFound          404
"""


class DispatchError(Exception):
    """Base of every error dispatch raises on purpose."""


class IncidentNotFound(DispatchError, LookupError):
    def __init__(self, incident_id: str) -> None:
        super().__init__(f"no incident {incident_id!r}")


class UnitNotFound(DispatchError, LookupError):
    def __init__(self, unit_id: str) -> None:
        super().__init__(f"no unit {unit_id!r}")
