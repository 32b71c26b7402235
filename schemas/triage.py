"""The triage decision: what to send, how urgently, and why."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.vocabulary import Category, Flag, ResponseModel, Role


class RationaleItem(BaseModel):
    """One rule that fired, and the words or answers that fired it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    reason: str
    evidence: list[str] = Field(default_factory=list)


class TriageDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Category
    priority: Annotated[int, Field(ge=1, le=3)]
    response_model: ResponseModel
    roles: list[Role]
    flags: list[Flag]
    rationale: list[RationaleItem]
    policy_version: str

    def without_evidence(self) -> "TriageDecision":
        """The decision with each rule's evidence removed: what the retention purge keeps.

        Evidence quotes the caller's words and answers; what was decided and which
        rules fired (with their fixed reasons) is what a program reports on.
        """
        return self.model_copy(
            update={
                "rationale": [item.model_copy(update={"evidence": []}) for item in self.rationale]
            }
        )
