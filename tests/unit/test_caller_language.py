"""The caller's language: a BCP 47 tag, validated and kept in canonical case; a unit that
speaks it (same primary language) wins among equals, and the reasons say so."""

import pytest
from pydantic import BaseModel, ValidationError

from schemas.calls import CallSubmission
from schemas.languages import LanguageTag, canonical_tag, primary_language
from schemas.vocabulary import Role
from services.dispatch.domain.eta import StraightLineEta
from services.dispatch.domain.languages import spoken
from services.dispatch.domain.recommend import Requirement, UnitCandidate, rank_for_role

SCENE = (39.7392, -104.9903)


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("es", "es"),
        ("EN-us", "en-US"),
        ("vi", "vi"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("ase", "ase"),
        ("sl-rozaj-biske", "sl-rozaj-biske"),
        ("de-CH-1996", "de-CH-1996"),
        ("en-US-x-twain", "en-US-x-twain"),
        ("zh-yue-HK", "zh-yue-HK"),
    ],
)
def test_well_formed_tags_are_kept_in_canonical_case(given: str, canonical: str) -> None:
    assert canonical_tag(given) == canonical


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "e",
        "Spanish",
        "spanish!",
        "es_MX",
        "en-",
        "-en",
        "es--MX",
        "123",
        "en-US-",
        "x" * 40,
        "es MX",
    ],
)
def test_anything_else_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="BCP 47"):
        canonical_tag(bad)


def test_the_intake_refuses_a_bad_tag_naming_the_field() -> None:
    call = {"narrative": "help", "location": {"address": "1437 Bannock St"}}
    assert CallSubmission.model_validate({**call, "language": "es-mx"}).language == "es-MX"
    assert CallSubmission.model_validate(call).language is None
    with pytest.raises(ValidationError) as refused:
        CallSubmission.model_validate({**call, "language": "Spanish please"})
    assert refused.value.errors()[0]["loc"] == ("language",)


def test_a_unit_lists_tags_too() -> None:
    class Unit(BaseModel):
        languages: list[LanguageTag]

    assert Unit(languages=["EN", "es-us"]).languages == ["en", "es-US"]
    with pytest.raises(ValidationError):
        Unit(languages=["español"])


def test_the_same_primary_language_serves_the_caller() -> None:
    assert primary_language("es-MX") == "es"
    assert spoken({"en", "es"}, "es-MX") == "es"
    assert spoken({"es-US", "es"}, "es-US") == "es-US"  # an exact tag first
    assert spoken({"en"}, "es") is None
    assert spoken({"es"}, None) is None
    assert spoken(set(), "es") is None


def _police(sign: str, lat: float, languages: frozenset[str] = frozenset()) -> UnitCandidate:
    return UnitCandidate(
        sign.lower(), sign, frozenset({Role.POLICE}), lat, SCENE[1], languages=languages
    )


def test_among_equally_near_units_the_one_speaking_the_language_goes_first() -> None:
    need = Requirement.for_incident({"flags": [], "category": "welfare"}, language="es-MX")
    units = [_police("ADAM-1", 39.7393), _police("ADAM-2", 39.7396, frozenset({"en", "es"}))]
    ranked = rank_for_role(Role.POLICE, units, *SCENE, StraightLineEta(), need)
    assert [r.candidate.call_sign for r in ranked] == ["ADAM-2", "ADAM-1"]
    assert "speaks es" in ranked[0].reasons
    assert not [r for r in ranked[1].reasons if r.startswith("speaks")]


def test_language_never_outranks_a_nearer_eta_band() -> None:
    need = Requirement.for_incident({"flags": [], "category": "welfare"}, language="es")
    units = [_police("NEAR", 39.7393), _police("FAR_ES", 39.80, frozenset({"es"}))]
    ranked = rank_for_role(Role.POLICE, units, *SCENE, StraightLineEta(), need)
    assert [r.candidate.call_sign for r in ranked] == ["NEAR", "FAR_ES"]
