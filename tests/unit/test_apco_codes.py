"""The APCO code tables are data: a bad edit is refused at load, naming the file and the key."""

import re
from pathlib import Path

import pytest

from schemas.vocabulary import AssignmentStatus, Category, Disposition
from services.dispatch.domain.apco_codes import CODES_FILE, ApcoCodesError, load_codes

SHIPPED = CODES_FILE.read_text(encoding="utf-8")


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "apco_codes.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_tables_load_and_cover_everything() -> None:
    codes = load_codes()
    assert len(codes.incident_types) == 197  # APCO ANS 2.103.1, as NIEM apco_event 5.0 lists
    assert set(codes.export_types) == set(Category)
    assert set(codes.dispositions) == set(Disposition)
    assert AssignmentStatus.ON_SCENE in codes.unit_statuses
    assert codes.import_findings["OD"].answers.overdose_suspected is True


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        # An unknown table, category, disposition or answer.
        ("unit_statuses:", "unit_status:", "unit_status"),
        ("  medical: {code: SICK", "  medicine: {code: SICK", "export_types.medicine"),
        ("  arrest: {code: ARREST", "  arrested: {code: ARREST", "dispositions.arrested"),
        (
            "{answers: {substance_use: true}, why: intox",
            "{answers: {drunk: true}, why: intox",
            "import_findings.INTOX.answers.drunk",
        ),
        # A code that is not an APCO incident type.
        (
            "  welfare: {code: WELFARE",
            "  welfare: {code: WELLFARE",
            "export_types.welfare.code: WELLFARE is not an APCO incident type",
        ),
        ("  EDP: {answers: {}", "  CRISIS: {answers: {}", "import_findings.CRISIS"),
        ("untriaged: WELFARE", "untriaged: CHECK", "untriaged: CHECK"),
        # A disposition code nobody declared.
        ("{code: REFUSED, why", "{code: DECLINED, why", "dispositions.refused_services.code"),
        # A row missing.
        ("  cleared: Available\n", "", "unit_statuses: no row for cleared"),
        # An incident type listed twice.
        ("incident_types: [\n", "incident_types: [\n  OD,\n", "is listed twice"),
        # A key written twice: YAML would silently keep the last one.
        ("  FIGHT: {", "  ASSAULT: {", "key 'ASSAULT' written twice"),
    ],
)
def test_a_bad_edit_is_refused_naming_the_file_and_key(
    tmp_path: Path, old: str, new: str, named: str
) -> None:
    assert old in SHIPPED
    path = written(tmp_path, SHIPPED.replace(old, new, 1))
    with pytest.raises(ApcoCodesError) as refused:
        load_codes(path)
    assert str(path) in str(refused.value)
    assert named in str(refused.value)


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ApcoCodesError, match="expected a mapping"):
        load_codes(written(tmp_path, "- OD\n"))


def test_the_console_offers_exactly_the_disposition_codes_of_the_table() -> None:
    script = (CODES_FILE.parents[1] / "console" / "incident.js").read_text(encoding="utf-8")
    found = re.search(r"const APCO_DISPOSITIONS = \[(.*?)\];", script, flags=re.S)
    assert found is not None
    assert re.findall(r'"([A-Z_]+)"', found.group(1)) == list(load_codes().disposition_codes)
