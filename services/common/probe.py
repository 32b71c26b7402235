"""``python -m services.common.probe [PATH]``: exit 0 when this container's service answers
``PATH`` (default ``/healthz``) with 200, else 1 — the Docker and compose health check.

Standard library only: the slim image has no curl, and a probe that imported the
service (FastAPI, SQLAlchemy) would cost a second of CPU every interval.
"""

import os
import sys
import urllib.error
import urllib.request


def probe(path: str = "/healthz", timeout_s: float = 3.0) -> bool:
    port = os.environ.get("CORESPOND_PORT", "8000")
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


if __name__ == "__main__":
    sys.exit(0 if probe(sys.argv[1] if len(sys.argv) > 1 else "/healthz") else 1)
