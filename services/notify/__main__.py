"""``python -m services.notify``: run the notify service."""

from services.common.serve import serve
from services.notify.main import NotifySettings

serve("services.notify.main:create_app", NotifySettings())
