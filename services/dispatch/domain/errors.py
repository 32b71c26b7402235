"""dispatch's error tree (mapped to problem+json in one place, ``main.py``).

DispatchError
├── NotFound              404
│   ├── IncidentNotFound, UnitNotFound, AssignmentNotFound, ProviderNotFound
│   ├── AccountNotFound (app/identity.py)
│   └── AlertNotFound
├── Conflict              409  (a step the current state does not allow)
│   ├── IllegalTransition (domain/lifecycle.py)
│   └── UnitUnavailable   (app/offers.py)
├── Unprocessable         422  (a request that names a field it got wrong)
├── SignInRefused, SignedOut   401  (app/identity.py)
└── AccountLocked         423  (app/identity.py)

``main.py`` maps the base classes, so a new error joins the right branch and
needs no entry of its own.
"""


class DispatchError(Exception):
    """Base of every error dispatch raises on purpose."""


class NotFound(DispatchError, LookupError):
    """The request names something dispatch does not have."""


class IncidentNotFound(NotFound):
    def __init__(self, incident_id: str) -> None:
        super().__init__(f"no incident {incident_id!r}")


class UnitNotFound(NotFound):
    def __init__(self, unit_id: str) -> None:
        super().__init__(f"no unit {unit_id!r}")


class AssignmentNotFound(NotFound):
    def __init__(self, assignment_id: str) -> None:
        super().__init__(f"no assignment {assignment_id!r}")


class ProviderNotFound(NotFound):
    def __init__(self, provider_id: str) -> None:
        super().__init__(f"no provider {provider_id!r}")


class AlertNotFound(NotFound):
    def __init__(self, alert_id: str) -> None:
        super().__init__(f"no alert {alert_id!r}")


class Conflict(DispatchError):
    """The request is well formed but the incident, unit or assignment is not in a state for it."""


class Unprocessable(DispatchError):
    """The request names something that cannot be used; ``field`` says which part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
