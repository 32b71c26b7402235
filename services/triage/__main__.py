"""``python -m services.triage``: run the triage service."""

from services.common.serve import serve
from services.triage.main import TriageSettings

serve("services.triage.main:create_app", TriageSettings())
