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


class KeyQuestion(BaseModel):
    """An unanswered protocol question that would change the decision, and how."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    answer: str = Field(description="the intake answer it fills, e.g. weapons")
    ask: str = Field(description="what the call-taker asks")
    if_answer: bool = Field(description="the answer that would change the decision")
    changes: str = Field(description='what that answer would change, e.g. "police join, P1"')


class TriageDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Category
    priority: Annotated[int, Field(ge=1, le=3)]
    response_model: ResponseModel
    roles: list[Role]
    flags: list[Flag]
    rationale: list[RationaleItem]
    policy_version: str
    key_questions: list[KeyQuestion] = Field(
        default_factory=list,
        description="unanswered questions that could change this, most decisive first",
    )
    needs_answers: bool = Field(
        default=False,
        description="safety is not established: a provisional response until answers come",
    )
    answers_given: list[str] = Field(default_factory=list)
    answers_missing: list[str] = Field(default_factory=list)

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
