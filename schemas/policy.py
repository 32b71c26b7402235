"""A jurisdiction's triage policy: which response programs exist there, and its version.

Policies are data (``deploy/policies/<jurisdiction>.yaml``), validated in full when
loaded: a service never runs with a half-valid policy. This module is the shape
and the rules of a valid policy; reading files is the adapters' job.
"""

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator


class UnknownJurisdiction(LookupError):
    """No policy exists for the jurisdiction named in the call."""


class Programs(BaseModel):
    """The response programs a jurisdiction can send (DOMAIN.md's response models)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    police: bool
    co_responder: bool
    clinician: bool = Field(description="an in-person clinician / community response program")
    firehouse: bool
    telehealth: bool


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    jurisdiction: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    description: str = ""
    programs: Programs
    telehealth_on_scene: Literal["emt", "police"] = Field(
        default="emt",
        description="who goes on scene to hold the tablet when telehealth replaces the "
        "clinician and no officer or EMT is needed for safety (DOMAIN principle 7)",
    )

    @property
    def in_person_clinicians(self) -> bool:
        return self.programs.clinician

    @model_validator(mode="after")
    def _someone_can_always_go(self) -> "Policy":
        # Safety first: weapons and medical emergencies need police and EMTs;
        # a behavioural crisis needs a clinician, in person or by video.
        if not self.programs.police:
            raise ValueError("programs.police: every jurisdiction needs a police response")
        if not self.programs.firehouse:
            raise ValueError("programs.firehouse: every jurisdiction needs an EMT response")
        if not (self.programs.clinician or self.programs.telehealth):
            raise ValueError(
                "programs: without an in-person clinician program, telehealth must exist"
            )
        return self


class PolicyBook:
    """Every jurisdiction's policy, looked up by name."""

    def __init__(self, policies: list[Policy]) -> None:
        self._by_jurisdiction = {p.jurisdiction: p for p in policies}

    def get(self, jurisdiction: str) -> Policy:
        try:
            return self._by_jurisdiction[jurisdiction]
        except KeyError:
            known = ", ".join(sorted(self._by_jurisdiction))
            raise UnknownJurisdiction(
                f"no triage policy for jurisdiction {jurisdiction!r}; known: {known}"
            ) from None

    def with_policy(self, policy: Policy) -> "PolicyBook":
        """This book with ``policy`` replacing its jurisdiction's (a what-if)."""
        return PolicyBook([*self._by_jurisdiction.values(), policy])

    def __iter__(self) -> Iterator[Policy]:
        return iter(sorted(self._by_jurisdiction.values(), key=lambda p: p.jurisdiction))

    def __contains__(self, jurisdiction: object) -> bool:
        return jurisdiction in self._by_jurisdiction
