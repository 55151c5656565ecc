"""An erased person never comes back (CONTRACT §16): a property over imports in any order.

A person is erased by a request; then their records — the same ones again, newer and older
deliveries of them, ones never archived before, in the forms platforms write a number — arrive
through the amazon-connect importer and through the API's path (``ingest_checked``), in any
order. Whatever arrives, nothing of the person comes back into what started before the
erasure's cutoff; their later contacts and everybody else's records are archived as delivered.
Contact records are shaped as https://docs.aws.amazon.com/connect/latest/adminguide/ctr-data-model.html
documents them.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import Solution
from archivist.anonymize.replay import ingest_checked
from archivist.archive.models import ChatMessage, Interaction, Recording
from archivist.archive.schemas import InteractionIn
from archivist.blobs.memory import MemoryBlobStore
from archivist.importers import ImportFormat
from tests.conftest import KEYRING
from tests.functional.anonymization_support import enter, night, oslo
from tests.functional.import_support import run

PERSON = "+4791234567"
OTHER = "+4798765432"
# The person's number as platforms write it (CONTRACT §16): all must be recognised as theirs.
PERSON_FORMS = ["+4791234567", "tel:+4791234567", "sip:4791234567@pbx.example.com", "whatsapp:+4791234567", "91234567"]
ENTERED = oslo(2026, 3, 5, 12)  # cutoff: the end of that local day
NIGHT = oslo(2026, 3, 6, 3)
IMPORTED = datetime(2026, 3, 8, 12, tzinfo=UTC)
STARTS = {
    "p1": "2026-03-01T08:00:00Z",  # archived, then erased
    "p2": "2026-03-02T09:00:00Z",  # the person's, before the cutoff, first delivered after the erasure
    "p_late": "2026-03-07T10:00:00Z",  # the person's, after the cutoff: a new contact, kept
    "o1": "2026-03-01T11:00:00Z",  # somebody else's, archived before
    "o2": "2026-03-03T12:00:00Z",  # somebody else's, new
}
_solutions = itertools.count()


def contact(tag: str, name: str, offset: int, form: str) -> dict[str, Any]:
    mine = name.startswith("p")
    return {
        "ContactId": f"{tag}-{name}",
        "Channel": "VOICE",
        "InitiationMethod": "INBOUND",
        "InitiationTimestamp": STARTS[name],
        "DisconnectTimestamp": STARTS[name].replace(":00Z", ":30Z"),
        "LastUpdateTimestamp": (datetime(2026, 3, 4, tzinfo=UTC) + timedelta(hours=offset)).isoformat(),
        "CustomerEndpoint": {"Address": form if mine else OTHER, "Type": "TELEPHONE_NUMBER"},
        "SystemEndpoint": {"Address": "+4721000000", "Type": "TELEPHONE_NUMBER"},
        "Queue": {"Name": f"Queue v{offset}", "EnqueueTimestamp": STARTS[name]},
        "Agent": {"Username": "ola.agent"},
        # A callback number in a variable: the person's own number, or somebody else's.
        "Attributes": {"callback": "912 34 567" if mine else "987 65 432", "version": str(offset)},
    }


def _api_body(record: dict[str, Any]) -> InteractionIn:
    return InteractionIn.model_validate(
        {
            "channel": "call",
            "direction": "inbound",
            "started_at": record["InitiationTimestamp"],
            "external_id": record["ContactId"],
            "queue": record["Queue"]["Name"],
            "customer": {
                "phone": record["CustomerEndpoint"]["Address"],
                "name": "Kari Nordmann" if record["ContactId"].endswith(("-p1", "-p2", "-p_late")) else None,
            },
            "variables": record["Attributes"],
        }
    )


delivery = st.tuples(
    st.sampled_from(sorted(STARTS)),
    st.integers(min_value=-2, max_value=2),  # update time relative to the first delivery's
    st.sampled_from(PERSON_FORMS),
    st.booleans(),  # through the API's path instead of the importer
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    deliveries=st.lists(delivery, min_size=1, max_size=6),
    delete_content=st.booleans(),
    raw_data=st.booleans(),
)
def test_an_erased_person_never_comes_back_whatever_arrives_in_whatever_order(
    session_factory: sessionmaker[Session],
    deliveries: list[tuple[str, int, str, bool]],
    delete_content: bool,
    raw_data: bool,
) -> None:
    tag = f"s{next(_solutions)}"
    blobs = MemoryBlobStore()
    with session_factory() as session, session.begin():
        solution = accounts.create_solution(session, name=tag, country="NO", timezone="Europe/Oslo")
        session.flush()
        session.expunge(solution)
    with tempfile.TemporaryDirectory() as folder:
        first = Path(folder) / "first"
        first.mkdir()
        (first / "records.json").write_text(
            "\n".join(json.dumps(contact(tag, name, 0, PERSON)) for name in ("p1", "o1")) + "\n"
        )
        run(ImportFormat.AMAZON_CONNECT, first, session_factory, solution, blobs, KEYRING, now=IMPORTED)
        enter(session_factory, solution, ENTERED, phone=PERSON, delete_content=delete_content, raw_data=raw_data)
        assert night(session_factory, blobs, NIGHT, solution).requests_processed == 1

        # The version each record holds, and its stored update time: the API's path stores none
        # (it has no update time), so any later delivery with one counts as newer.
        delivered: dict[str, int] = {"o1": 0}
        updated: dict[str, int | None] = {"o1": 0}
        for number, (name, offset, form, via_api) in enumerate(deliveries):
            record = contact(tag, name, offset, form)
            if via_api:
                with session_factory() as session, session.begin():
                    ingest_checked(session, solution, [_api_body(record)], IMPORTED, keyring=KEYRING)
                if name not in delivered:  # the API's path never re-delivers
                    delivered[name], updated[name] = offset, None
            else:
                batch = Path(folder) / f"d{number}"
                batch.mkdir()
                (batch / "records.json").write_text(json.dumps(record))
                summary = run(
                    ImportFormat.AMAZON_CONNECT, batch, session_factory, solution, blobs, KEYRING, now=IMPORTED
                )
                assert summary.bad == []
                stored = updated.get(name)
                if name not in delivered or stored is None or offset > stored:
                    delivered[name], updated[name] = offset, offset
        _check(session_factory, solution, delivered, delete_content)


def _check(factory: sessionmaker[Session], solution: Solution, delivered: dict[str, int], delete_content: bool) -> None:
    with factory() as session:
        rows = {
            i.external_id.rsplit("-", 1)[-1]: i
            for i in session.scalars(select(Interaction).where(Interaction.solution_id == solution.id))
            if i.external_id
        }
        recordings = set(session.scalars(select(Recording.interaction_id)))
        texts = list(session.scalars(select(ChatMessage.text).where(ChatMessage.solution_id == solution.id)))
    for name in ("p1", "p2"):
        if name not in rows:
            continue
        row = rows[name]
        # Nothing of the person: not the number, not the name, not a variable; stored erased.
        assert row.anonymized_at is not None, name
        assert row.customer_phone_e164 is None, name
        assert "1234567" not in (row.customer_phone or ""), name
        assert row.customer_name != "Kari Nordmann", name
        assert "912 34 567" not in json.dumps(row.variables or {}), name
        if delete_content:
            assert row.id not in recordings
            assert not row.has_content
    assert all("1234567" not in text for text in texts)
    if "p_late" in rows:  # after the cutoff: the person's new contact is theirs to keep
        assert rows["p_late"].customer_phone_e164 == PERSON
        assert rows["p_late"].anonymized_at is None
    for name in ("o1", "o2"):
        if name in rows:
            row = rows[name]
            assert (row.customer_phone_e164, row.anonymized_at, row.customer_name) == (OTHER, None, None)
            assert row.variables == {"callback": "987 65 432", "version": str(delivered[name])}
