"""A treatment provider's system is an API client bound to one organisation, with the
provider role alone: it may read and move only its own referral Tasks."""

import pytest
from pydantic import ValidationError

from services.dispatch.api.accounts import ClientIn


def test_a_provider_client_names_its_organisation() -> None:
    made = ClientIn.model_validate(
        {"name": "cares-ehr", "roles": ["provider"], "organization": "Denver CARES"}
    )
    assert made.organization == "Denver CARES"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "cares-ehr", "roles": ["provider"]},  # whose Tasks?
        {"name": "cad-east", "roles": ["call_taker"], "organization": "Denver CARES"},
        # A staff role beside it would read every provider's referrals.
        {"name": "cares-ehr", "roles": ["provider", "dispatcher"], "organization": "Denver CARES"},
        {"name": "cares-ehr", "roles": ["provider"], "organization": "Denver\u202eCARES"},
    ],
)
def test_anything_else_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ClientIn.model_validate(body)
