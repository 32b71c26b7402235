"""Dependencies of triage's routes, as ``Annotated`` aliases."""

from typing import Annotated

from fastapi import Depends, Request

from schemas.policy import PolicyBook


def get_policies(request: Request) -> PolicyBook:
    policies: PolicyBook = request.app.state.policies
    return policies


Policies = Annotated[PolicyBook, Depends(get_policies)]
