"""Short incident codes: what a responder texts back ("Y 4821") to pick the right offer."""

import secrets


def incident_code(attempt: int) -> str:
    """A random code; longer after collisions so a busy centre never runs out."""
    digits = 4 if attempt < 20 else 5 if attempt < 40 else 6
    low = 10 ** (digits - 1)
    return str(low + secrets.randbelow(9 * low))
