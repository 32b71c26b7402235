"""/healthz fails when a consumer stalls or restarts in a loop, or work waits past its deadline;
/readyz reports the parts."""

import sqlite3
from pathlib import Path

from sqlalchemy.exc import OperationalError

from schemas.envelope import CloudEvent, EventType
from services.cli.stack import EMBEDDED_BROKER_ENV, Tansu
from services.common.consumer import Subscription
from services.common.outbox import UnitOfWork
from services.common.runtime import ServiceRuntime
from services.common.settings import ServiceSettings
from services.common.topics import CALLS
from tests.support.databases import DatabaseTarget
from tests.support.flow import submit, until_texted
from tests.support.inprocess import DATA_KEYS, InProcessStack
from tests.support.kafka import call_received_record, publish
from tests.support.waiting import eventually


async def test_probes_are_open_and_ok_on_a_healthy_stack(sqlite_stack: InProcessStack) -> None:
    for service, client in sqlite_stack.clients.items():
        request = client.build_request("GET", "/healthz")
        request.headers.pop("Authorization")
        health = await client.send(request)
        assert health.status_code == 200, service
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["database"] == "ok"


async def test_healthz_fails_while_the_consumer_is_stuck_and_recovers(
    broker: Tansu, sqlite_db: DatabaseTarget, roster: Path, tmp_path: Path
) -> None:
    stack = InProcessStack(
        broker.bootstrap,
        sqlite_db,
        tmp_path,
        roster=roster,
        overrides={"triage": {"consumer_stall_after_s": 1.0}},
    )
    await stack.start()
    try:
        await _stall_and_recover(stack, tmp_path)
    finally:
        await stack.stop()


async def _stall_and_recover(stack: InProcessStack, tmp_path: Path) -> None:
    await until_texted(stack.dispatch, await submit(stack.dispatch))
    # Another process holds triage's database write lock: its consumer blocks
    # inside a handler, exactly what a wedged database looks like.
    lock = sqlite3.connect(tmp_path / "triage.db", timeout=1)
    lock.execute("BEGIN IMMEDIATE")
    try:
        await submit(stack.dispatch)

        async def unhealthy() -> bool:
            response = await stack.triage.get("/healthz")
            return (
                response.status_code == 503 and response.json()["checks"]["consumer"] == "stalled"
            )

        await eventually(unhealthy, timeout_s=20, what="triage /healthz to report a stall")
    finally:
        lock.rollback()
        lock.close()

    async def healthy() -> bool:
        return (await stack.triage.get("/healthz")).status_code == 200

    await eventually(healthy, timeout_s=40, what="triage to recover")


async def test_unanswered_work_alerts_once_and_fails_healthz_until_it_is_answered(
    broker: Tansu, sqlite_db: DatabaseTarget, roster: Path, tmp_path: Path
) -> None:
    """Triage is down: dispatch asks again, gives up with one alert, and says so on /healthz."""
    fast = {
        "reconcile_triage_after_s": 0.5,
        "reconcile_interval_s": 0.2,
        "reconcile_max_resends": 2,
        "work_stuck_after_s": 2.0,
    }
    stack = InProcessStack(
        broker.bootstrap, sqlite_db, tmp_path, roster=roster, overrides={"dispatch": fast}
    )
    await stack.start("dispatch", "notify")
    try:
        incident_id = await submit(stack.dispatch)

        async def stuck_alerts() -> list[dict[str, object]]:
            alerts = (await stack.dispatch.get("/v1/alerts")).json()
            return [a for a in alerts if a["kind"] == "work_stuck"]

        alerts = await eventually(stuck_alerts, what="a work_stuck alert")
        assert [a["incident_id"] for a in alerts] == [incident_id]
        assert "no triage decision" in str(alerts[0]["summary"])

        async def unhealthy() -> dict[str, object] | None:
            health = await stack.dispatch.get("/healthz")
            return health.json() if health.status_code == 503 else None

        report = await eventually(unhealthy, what="/healthz failing on stuck work")
        assert "triage" in report["checks"]["stuck_work_s"]  # type: ignore[index]
        metrics = stack.runtime("dispatch").metrics
        assert metrics.reconcile_gave_up.labels("triage")._value.get() == 1
        assert metrics.reconcile_resent.labels("triage")._value.get() == 2

        # Once triage is back the call goes through and the health recovers; the
        # alert was raised once, not at every pass.
        await stack.start("triage")
        await until_texted(stack.dispatch, incident_id, timeout_s=40)

        async def healthy() -> bool:
            return (await stack.dispatch.get("/healthz")).status_code == 200

        await eventually(healthy, timeout_s=10, what="/healthz ok again")
        assert len(await stuck_alerts()) == 1
    finally:
        await stack.stop()


async def test_healthz_fails_on_a_consumer_restarting_in_a_loop(
    broker: Tansu, tmp_path: Path
) -> None:
    """It polls (so it never looks stalled), but every record crashes it: /healthz says so."""

    async def database_gone(_uow: UnitOfWork, _event: CloudEvent, _data: object) -> None:
        raise OperationalError("INSERT", {}, ConnectionError("the database went away"))

    settings = ServiceSettings(
        service_name="triage",
        kafka_bootstrap_servers=broker.bootstrap,
        kafka_enable_idempotence=False,
        kafka_session_timeout_ms=int(EMBEDDED_BROKER_ENV["CORESPOND_KAFKA_SESSION_TIMEOUT_MS"]),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'looping.db'}",
        data_dir=tmp_path,
        data_keys=DATA_KEYS,
        consumer_restart_limit=2,
    )
    runtime = ServiceRuntime(
        settings, [], Subscription("looping", [CALLS], {EventType.CALL_RECEIVED: database_gone})
    )
    await runtime.start()
    try:
        await runtime.bus.ready.wait()
        assert runtime.liveness().ok
        await publish(broker.bootstrap, CALLS, call_received_record(1), key=b"incident-1")

        report = await eventually(
            lambda: None if runtime.liveness().ok else runtime.liveness(),
            timeout_s=30,
            what="liveness failing",
        )
        assert str(report.checks["consumer"]).startswith("restarting")
    finally:
        await runtime.stop()
