"""Call intake: what a call-taker submits (DOMAIN.md, "Call intake")."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from schemas.vocabulary import CallSource

E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{6,14}$")]


class Answers(BaseModel):
    """Protocol answers: each true, false or null (not asked / unknown)."""

    model_config = ConfigDict(extra="forbid")

    weapons: bool | None = None
    violence: bool | None = None
    threat_to_others: bool | None = None
    suicidal: bool | None = None
    conscious: bool | None = None
    breathing: bool | None = None
    injury: bool | None = None
    substance_use: bool | None = None
    overdose_suspected: bool | None = None
    children_present: bool | None = None
    crime_in_progress: bool | None = None


class Location(BaseModel):
    """Where help is needed: a point, an address, or both."""

    model_config = ConfigDict(extra="forbid")

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None

    def has_point(self) -> bool:
        return self.lat is not None and self.lon is not None


class Caller(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: E164 | None = None
    relationship: Annotated[str, StringConstraints(max_length=60)] | None = None


class CallIntake(BaseModel):
    """A crisis call as submitted. A real call needs a location; a preview does not."""

    model_config = ConfigDict(extra="forbid")

    narrative: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000)
    ]
    answers: Answers = Field(default_factory=Answers)
    location: Location | None = None
    caller: Caller | None = None
    source: CallSource = CallSource.NINE_ONE_ONE
    jurisdiction: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")] = (
        "default"
    )


class CallSubmission(CallIntake):
    """A call submitted for dispatch: unlike a preview, it must say where (point or address)."""

    location: Location

    @field_validator("location")
    @classmethod
    def _somewhere(cls, location: Location) -> Location:
        if (location.lat is None) != (location.lon is None):
            raise ValueError("lat and lon go together")
        if not location.has_point() and not location.address:
            raise ValueError("location needs lat and lon, or an address")
        return location
