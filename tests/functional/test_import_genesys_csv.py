"""`archivist import --format genesys` and `--format csv` (CONTRACT §16) on the sample exports.

docs/examples/genesys follows, field by field, the conversation details of
https://developer.genesys.cloud/analyticsdatamanagement/analytics/detail/ (an analytics job's
page: https://developer.genesys.cloud/analyticsdatamanagement/analytics/jobs/conversation-details-job)
and the recording bulk export's folders
(https://help.mypurecloud.com/articles/about-the-aws-s3-recording-bulk-actions-integration/).
docs/examples/csv is a CRM export with a mapping file, in the shape of §6's interaction body.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import Direction
from archivist.blobs.memory import MemoryBlobStore
from archivist.importers import ImportFormat, SourceUnreadable
from tests.functional.import_support import EXAMPLES, by_external_id, events, recording_key, run

GENESYS = EXAMPLES / "genesys"
GENESYS_MAPPING = EXAMPLES / "genesys-mapping.json"
VOICE = "7d1f3c2a-0b9e-4a8d-b6c5-1e2f3a4b5c6d"
MESSAGE = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
EMAIL = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"
OUTBOUND = "8f9e0d1c-2b3a-4c5d-8e7f-6a5b4c3d2e1f"
CSV = EXAMPLES / "csv" / "interactions.csv"
CSV_MAPPING = EXAMPLES / "csv" / "mapping.json"


def test_genesys_conversations_and_recordings_are_archived(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, keyring: MentionKeyring
) -> None:
    summary = run(ImportFormat.GENESYS, GENESYS, session_factory, solution, blobs, keyring, mapping=GENESYS_MAPPING)
    assert summary.as_json() == {
        "read": 5,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "skipped": {"media_callback": 1},
        "erased_on_import": 0,
        "recordings": 1,
        "transcripts": 0,
    }
    voice = by_external_id(session_factory, VOICE)
    # ani "tel:+47…" read at the edge; queue and user names from the mapping.
    assert (voice.channel.value, voice.direction, voice.queue, voice.agent) == (
        "call",
        Direction.INBOUND,
        "Support",
        "Ola Agent",
    )
    assert (voice.customer_phone, voice.customer_phone_e164, voice.customer_name) == (
        "+4791234567",
        "+4791234567",
        "Kari Nordmann",
    )
    assert voice.service_number == "+4721000000"
    assert voice.variables == {"customer_number": "K-10442"}
    assert [e[0] for e in events(session_factory, voice.id)] == [
        "acd_interact",
        "agent_alert",
        "agent_interact",
        "agent_wrapup",
    ]
    key = recording_key(session_factory, voice.id)
    assert key is not None
    wav = next(GENESYS.rglob("*.wav")).read_bytes()
    assert b"".join(blobs.open_range(key)) == wav
    message = by_external_id(session_factory, MESSAGE)
    assert (message.channel.value, message.customer_phone_e164) == ("chat", "+4798765432")
    email = by_external_id(session_factory, EMAIL)
    assert (email.customer_email_norm, email.customer_name) == ("kari.nordmann@example.com", "Nordmann, Kari")
    outbound = by_external_id(session_factory, OUTBOUND)
    # Outbound: the customer is the dnis, here a SIP URI's user part.
    assert (outbound.direction, outbound.customer_phone_e164) == (Direction.OUTBOUND, "+4741234567")


def test_genesys_one_conversation_a_line_and_ids_without_a_mapping(
    tmp_path: Path,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    keyring: MentionKeyring,
) -> None:
    page = json.loads((GENESYS / "conversations" / "details-job-page-1.json").read_text())
    (tmp_path / "export").mkdir()
    lines = [json.dumps(c) for c in page["conversations"][:2]]
    (tmp_path / "export" / "conversations.jsonl").write_text(lines[0] + "\n" + '{"conversationId": 7}\n' + lines[1])
    summary = run(ImportFormat.GENESYS, tmp_path / "export", session_factory, solution, blobs, keyring)
    assert summary.bad == [("conversations.jsonl:2", "conversationId: missing")]
    assert summary.created == 2
    assert (by_external_id(session_factory, VOICE).queue, by_external_id(session_factory, VOICE).agent) == (
        "q-support",
        "u-ola",
    )


def test_csv_with_a_mapping_reads_values_as_the_api_does(
    session_factory: sessionmaker[Session], solution: Solution, blobs: MemoryBlobStore, keyring: MentionKeyring
) -> None:
    summary = run(ImportFormat.CSV, CSV, session_factory, solution, blobs, keyring, mapping=CSV_MAPPING)
    # The third row's email is no address: the record is kept without it, and counted.
    assert summary.as_json()["skipped"] == {"unreadable_email": 1}
    assert (summary.read, summary.created, summary.bad) == (3, 3, [])
    call = by_external_id(session_factory, "crm-1001")
    assert (call.customer_phone_e164, call.customer_name, call.queue) == ("+4791234567", "Kari Nordmann", "Support")
    assert call.variables == {"customer_number": "K-10442"}
    email = by_external_id(session_factory, "crm-1002")
    assert (email.customer_email, email.customer_name) == ("kari.nordmann@example.com", "Nordmann, Kari")
    chat = by_external_id(session_factory, "crm-1003")
    assert (chat.customer_email, chat.customer_name, chat.direction) == (None, "Ola Hansen", Direction.OUTBOUND)
    again = run(ImportFormat.CSV, CSV, session_factory, solution, blobs, keyring, mapping=CSV_MAPPING)
    assert (again.created, again.unchanged) == (0, 3)


def test_a_bad_csv_row_is_reported_by_its_line(
    tmp_path: Path,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    keyring: MentionKeyring,
) -> None:
    rows = CSV.read_text().splitlines()
    (tmp_path / "in.csv").write_text("\n".join([rows[0], rows[1], rows[2].replace(";email;", ";fax;"), rows[3]]))
    summary = run(ImportFormat.CSV, tmp_path / "in.csv", session_factory, solution, blobs, keyring, mapping=CSV_MAPPING)
    assert [position for position, _ in summary.bad] == ["in.csv:3"]
    assert summary.bad[0][1].startswith("channel:")
    assert summary.created == 2


@pytest.mark.parametrize(
    "mapping",
    [
        {"columns": {"channel": "kanal"}},  # the required fields unnamed
        {"delimiter": ";;", "columns": {"channel": "a", "direction": "b", "started_at": "c"}},  # two characters
        {"columns": {"channel": "a", "direction": "b", "started_at": "c", "messages": "d"}},  # no cell holds a list
    ],
)
def test_a_bad_mapping_makes_the_source_unreadable(
    mapping: dict[str, object],
    tmp_path: Path,
    session_factory: sessionmaker[Session],
    solution: Solution,
    blobs: MemoryBlobStore,
    keyring: MentionKeyring,
) -> None:
    (tmp_path / "mapping.json").write_text(json.dumps(mapping))
    with pytest.raises(SourceUnreadable):
        run(ImportFormat.CSV, CSV, session_factory, solution, blobs, keyring, mapping=tmp_path / "mapping.json")
