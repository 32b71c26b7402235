"""Call intake: what a call-taker submits (DOMAIN.md, "Call intake")."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, field_validator

from schemas.languages import LanguageTag
from schemas.text import MULTI_LINE, ONE_LINE
from schemas.vocabulary import CallSource

E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{6,14}$")]
# JSON numbers only. Pydantic's lax mode would read `false` as 0.0, a point in
# the Gulf of Guinea, and "39.7" as a number the contract says is not one.
Latitude = Annotated[float, Field(ge=-90, le=90, strict=True)]
Longitude = Annotated[float, Field(ge=-180, le=180, strict=True)]


class Answers(BaseModel):
    """Protocol answers: each true, false or null (not asked / unknown)."""

    model_config = ConfigDict(extra="forbid")

    weapons: StrictBool | None = None
    violence: StrictBool | None = None
    threat_to_others: StrictBool | None = None
    suicidal: StrictBool | None = None
    conscious: StrictBool | None = None
    breathing: StrictBool | None = None
    injury: StrictBool | None = None
    substance_use: StrictBool | None = None
    overdose_suspected: StrictBool | None = None
    children_present: StrictBool | None = None
    crime_in_progress: StrictBool | None = None


class Location(BaseModel):
    """Where help is needed: a point, an address, or both."""

    model_config = ConfigDict(extra="forbid")

    lat: Latitude | None = None
    lon: Longitude | None = None
    address: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), ONE_LINE] | None
    ) = None

    def has_point(self) -> bool:
        return self.lat is not None and self.lon is not None


class Caller(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: E164 | None = None
    relationship: Annotated[str, StringConstraints(max_length=60), ONE_LINE] | None = None


class CallIntake(BaseModel):
    """A crisis call as submitted. A real call needs a location; a preview does not."""

    model_config = ConfigDict(extra="forbid")

    narrative: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000), MULTI_LINE
    ]
    answers: Answers = Field(default_factory=Answers)
    location: Location | None = None
    caller: Caller | None = None
    source: CallSource = CallSource.NINE_ONE_ONE
    jurisdiction: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")] = (
        "default"
    )
    language: LanguageTag | None = Field(
        default=None,
        description="the language the caller speaks (BCP 47, e.g. es, en-US, vi): among "
        "equally near units, one that speaks it is preferred",
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
