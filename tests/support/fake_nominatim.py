"""A local fake of a Nominatim ``/search`` endpoint on 127.0.0.1, for the online geocoder.

It answers every query with the configured results and records the queries, so a
test can check what left the machine. Nothing in the tests calls an outside host.
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class FakeNominatim:
    results: list[dict[str, Any]] = field(default_factory=list)
    queries: list[dict[str, list[str]]] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                if parsed.path != "/search":
                    self.send_error(404)
                    return
                fake.queries.append(parse_qs(parsed.query))
                fake.user_agents.append(self.headers.get("User-Agent", ""))
                body = json.dumps(fake.results).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
