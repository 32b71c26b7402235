"""A Twilio API that never answers costs one timeout, not the delivery worker.

twilio's HTTP client waits for ever by default; notify builds it with
``CORESPOND_TWILIO_TIMEOUT_S``. Here the "API" is a local socket that accepts
the connection and then says nothing: the real ``twilio`` client must give up
within the timeout, as a retryable failure.
"""

import socket
import time
from collections.abc import Iterator

import pytest

from services.notify.adapters.sms import TwilioSmsBackend
from services.notify.domain.delivery import SendFailure
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN


@pytest.fixture
def silent_api() -> Iterator[str]:
    """A loopback port that accepts connections and never answers them."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


async def test_a_hung_twilio_request_fails_within_the_timeout(silent_api: str) -> None:
    backend = TwilioSmsBackend(
        ACCOUNT_SID,
        AUTH_TOKEN,
        messaging_service_sid=None,
        from_number="+17205550000",
        status_callback_url=None,
        api_base_url=silent_api,
        timeout_s=0.5,
    )
    started = time.monotonic()
    with pytest.raises(SendFailure) as failed:
        await backend.send("m-1", "+17205550123", "corespond test")
    assert time.monotonic() - started < 5
    assert failed.value.permanent is False  # retried later, like any network failure
