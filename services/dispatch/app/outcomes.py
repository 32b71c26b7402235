"""Outcomes: the fields recorded when an incident closes, and the outcome report built from them.

``record`` runs in the close's unit of work, after ``dispatching.close``: a
referral names a provider that must exist (422 naming the field otherwise), and
the fields land on the incident's timeline (the HTTP request itself is in the
access audit like every other). ``report`` reads plain rows through the
adapter and lets the domain compute every figure and suppress small cells.

Repeat callers are counted by a keyed hash (HMAC-SHA256) of the caller's
number, computed while the report is built; neither the number nor the hash is
stored or sent. The key is ``CORESPOND_CALLER_HASH_KEY``; without it a random
key is made per process, which is enough since hashes are only ever compared
within one report.
"""

import csv
import hashlib
import hmac
import io
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from schemas.vocabulary import FollowUpOutcome
from services.common.db import Session
from services.common.outbox import UnitOfWork
from services.dispatch.adapters.outcome_rows import OutcomeRows
from services.dispatch.app import timeline
from services.dispatch.domain.charts import ChartName, chart_figures, render
from services.dispatch.domain.errors import Unprocessable
from services.dispatch.domain.outcomes import REPEAT_WINDOWS_DAYS, Figure, outcome_figures

# The domain's disposition vocabulary is ours (schemas.vocabulary.Disposition); an APCO
# disposition code (CAD interop, issue 19) may be chosen beside it at close, and is
# otherwise mapped from it (services/dispatch/domain/apco_codes.yaml).
DISPOSITION_MAPPING_POINT = "schemas.vocabulary.Disposition"


@dataclass(frozen=True)
class OutcomeFields:
    """What the closing dispatcher may add to the disposition; every field optional."""

    naloxone_doses: int | None = None
    transported: bool | None = None
    transported_to: str | None = None
    referred_provider_id: str | None = None
    arrest: bool | None = None
    follow_up_outcome: FollowUpOutcome | None = None
    fatal_overdose: bool = False
    apco_disposition: str | None = None

    def given(self) -> bool:
        return self.fatal_overdose or any(
            v is not None for k, v in asdict(self).items() if k != "fatal_overdose"
        )


def _words(fields: OutcomeFields) -> str:
    parts = []
    if fields.naloxone_doses is not None:
        parts.append(f"naloxone doses {fields.naloxone_doses}")
    if fields.transported is not None:
        where = f" to {fields.transported_to}" if fields.transported_to else ""
        parts.append(f"transported{where}" if fields.transported else "not transported")
    if fields.referred_provider_id:
        parts.append(f"referred to provider {fields.referred_provider_id}")
    if fields.arrest is not None:
        parts.append("arrest" if fields.arrest else "no arrest")
    if fields.follow_up_outcome is not None:
        parts.append(f"follow-up: {fields.follow_up_outcome.value.replace('_', ' ')}")
    if fields.apco_disposition:
        parts.append(f"APCO disposition {fields.apco_disposition}")
    return "; ".join(parts)


async def record(uow: UnitOfWork, incident_id: str, fields: OutcomeFields, actor: str) -> None:
    """Keep the outcome fields of a closing incident (nothing when none was given)."""
    if not fields.given():
        return
    rows = OutcomeRows(uow.session)
    if fields.referred_provider_id and not await rows.provider_exists(fields.referred_provider_id):
        raise Unprocessable("referred_provider_id", f"no provider {fields.referred_provider_id!r}")
    now = uow.clock.now()
    rows.add_outcome(
        incident_id,
        now,
        actor,
        naloxone_doses=fields.naloxone_doses,
        transported=fields.transported,
        transported_to=fields.transported_to,
        referred_provider_id=fields.referred_provider_id,
        arrest=fields.arrest,
        follow_up_outcome=fields.follow_up_outcome.value if fields.follow_up_outcome else None,
        fatal_overdose=fields.fatal_overdose,
        apco_disposition=fields.apco_disposition,
    )
    data = {k: v for k, v in asdict(fields).items() if v is not None and k != "transported_to"}
    if fields.follow_up_outcome is not None:
        data["follow_up_outcome"] = fields.follow_up_outcome.value
    timeline.record(
        uow.session,
        incident_id,
        at=now,
        kind="incident.outcome",
        actor=actor,
        summary=f"outcome: {_words(fields)}" if _words(fields) else "outcome recorded",
        # Plain figures only; the free-text destination stays in the sealed summary.
        data=data,
    )


class CallerHasher:
    """HMAC-SHA256 of a phone number under the configured key."""

    def __init__(self, key: bytes | None) -> None:
        self._key = key or secrets.token_bytes(32)

    def __call__(self, phone: str) -> str:
        return hmac.new(self._key, phone.encode(), hashlib.sha256).hexdigest()


async def report(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    jurisdiction: str | None,
    program: str | None,
    now: datetime,
    hasher: CallerHasher,
) -> list[Figure]:
    rows = OutcomeRows(session)
    incidents = await rows.incidents(since, until, jurisdiction, program)
    lookback = since - timedelta(days=max(REPEAT_WINDOWS_DAYS))
    # A repeat caller is one whatever program answered: ``program`` does not narrow it.
    callers = await rows.callers(lookback, until, jurisdiction, hasher)
    exposures = await rows.exposures(since, until)
    return outcome_figures(incidents, callers, exposures, since=since, until=until, now=now)


CSV_COLUMNS = ("section", "program", "week", "name", "value", "suppressed")


def as_csv(figures: list[Figure]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for f in figures:
        writer.writerow(
            [f.section, f.program, f.week, f.name, "" if f.value is None else f.value, f.suppressed]
        )
    return out.getvalue()


def chart(figures: list[Figure], name: ChartName) -> tuple[bytes, list[Figure]]:
    """A chart of the report as SVG, and the figures it draws (its CSV)."""
    return render(figures, name), chart_figures(figures, name)
