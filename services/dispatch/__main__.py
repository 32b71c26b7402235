"""``python -m services.dispatch``: run the dispatch service."""

from services.common.serve import serve
from services.dispatch.main import DispatchSettings

serve("services.dispatch.main:create_app", DispatchSettings())
