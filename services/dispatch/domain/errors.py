"""dispatch's error tree (mapped to problem+json in one place, ``main.py``).

DispatchError
├── IncidentNotFound      404
├── UnitNotFound          404
├── AssignmentNotFound    404
├── ProviderNotFound      404
├── AlertNotFound         404
├── Conflict              409  (a step the current state does not allow)
└── Unprocessable         422  (a request that names a field it got wrong)
"""


class DispatchError(Exception):
    """Base of every error dispatch raises on purpose."""


class IncidentNotFound(DispatchError, LookupError):
    def __init__(self, incident_id: str) -> None:
        super().__init__(f"no incident {incident_id!r}")


class UnitNotFound(DispatchError, LookupError):
    def __init__(self, unit_id: str) -> None:
        super().__init__(f"no unit {unit_id!r}")


class AssignmentNotFound(DispatchError, LookupError):
    def __init__(self, assignment_id: str) -> None:
        super().__init__(f"no assignment {assignment_id!r}")


class ProviderNotFound(DispatchError, LookupError):
    def __init__(self, provider_id: str) -> None:
        super().__init__(f"no provider {provider_id!r}")


class AlertNotFound(DispatchError, LookupError):
    def __init__(self, alert_id: str) -> None:
        super().__init__(f"no alert {alert_id!r}")


class Conflict(DispatchError):
    """The request is well formed but the incident, unit or assignment is not in a state for it."""


class Unprocessable(DispatchError):
    """The request names something that cannot be used; ``field`` says which part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
