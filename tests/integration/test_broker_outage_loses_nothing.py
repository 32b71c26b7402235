"""202 means stored: calls accepted while the broker is away are processed once it is back."""

from pathlib import Path

from services.cli.stack import Tansu, free_port
from tests.support.databases import DatabaseTarget
from tests.support.flow import submit, until_texted
from tests.support.inprocess import InProcessStack
from tests.support.waiting import eventually


async def test_calls_accepted_before_the_broker_exists_are_processed_when_it_starts(
    sqlite_db: DatabaseTarget, roster: Path, tmp_path: Path
) -> None:
    port = free_port()
    stack = InProcessStack(f"127.0.0.1:{port}", sqlite_db, tmp_path, roster=roster)
    await stack.start("dispatch")
    tansu = Tansu(port)
    try:
        incident_ids = [await submit(stack.dispatch) for _ in range(3)]
        relay = stack.runtime("dispatch").relay
        # Each call's event and the audit record of each POST that accepted it.
        assert (await relay.backlog())[0] == 6
        ready = await stack.dispatch.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["broker"] == "connecting"
        assert ready.json()["checks"]["outbox_backlog"] == 6

        tansu.start()
        await stack.start("triage", "notify")
        for incident_id in incident_ids:
            await until_texted(stack.dispatch, incident_id, timeout_s=40)

        async def drained() -> bool:
            # Reads are audited too: the last reads' records leave just after them.
            return (await relay.backlog())[0] == 0

        await eventually(drained, what="the outbox drained")
    finally:
        await stack.stop()
        tansu.stop()


async def test_relay_keeps_events_while_the_broker_is_down_and_publishes_them_after(
    sqlite_db: DatabaseTarget, roster: Path, tmp_path: Path
) -> None:
    tansu = Tansu()
    tansu.start()
    # One partition per topic: every consumer's position is then past the first
    # record the restarted broker will hold, so forgetting to re-read is caught
    # every time, not only when keys happen to share a partition.
    one_partition = {"kafka_topic_partitions": 1}
    stack = InProcessStack(
        tansu.bootstrap,
        sqlite_db,
        tmp_path,
        roster=roster,
        overrides={name: one_partition for name in ("dispatch", "triage", "notify")},
    )
    try:
        await stack.start()
        await until_texted(stack.dispatch, await submit(stack.dispatch))

        tansu.stop()
        during = [await submit(stack.dispatch) for _ in range(3)]
        relay = stack.runtime("dispatch").relay
        await eventually(lambda: relay.last_error is not None, what="a failed publish")
        assert (await relay.backlog())[0] >= 1

        # The embedded broker keeps nothing across a restart: topics, offsets and
        # groups are gone. The services re-create the topics, notice that their
        # committed offsets are gone, re-read from the start (the inbox absorbs
        # repeats) and carry on.
        tansu.start()
        for incident_id in during:
            await until_texted(stack.dispatch, incident_id, timeout_s=60)

        async def drained() -> bool:
            # Reads are audited too: the last reads' records leave just after them.
            return (await relay.backlog())[0] == 0

        await eventually(drained, what="the outbox drained")
    finally:
        await stack.stop()
        tansu.stop()
