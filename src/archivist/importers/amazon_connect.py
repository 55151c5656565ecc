"""``--format amazon-connect``: an Amazon Connect export as the platform writes it to S3 (CONTRACT §16).

Contact records (one a line, a JSON array, or back to back as Kinesis Data Firehose writes
them) anywhere under SOURCE, beside the folders Amazon Connect keeps per contact:
``ChatTranscripts/**/<ContactId>_*.json``, ``CallRecordings/**/<ContactId>_*.wav`` and
``Analysis/Voice/**/<ContactId>_*.json`` (Contact Lens). Field names as documented in
https://docs.aws.amazon.com/connect/latest/adminguide/ctr-data-model.html (contact records),
https://docs.aws.amazon.com/connect-participant/latest/APIReference/API_Item.html (transcript items)
and https://docs.aws.amazon.com/connect/latest/adminguide/contact-lens-example-output-files.html.

The side folders are listed first (paths only, one entry per contact); then the records are read
as a stream, each taking its transcript, recording and analysis by ``ContactId``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from archivist.importers import ImportJob, ImportSummary
from archivist.importers.pipeline import Bad, Item, Record, Skipped, json_records, read_pieces, validated, write_records
from archivist.importers.sources import Source, open_source

_CHANNELS = {"VOICE": "call", "CHAT": "chat", "EMAIL": "email"}
# InitiationMethod values that mean the contact centre reached out; API only on a voice contact
# (an outbound call placed by StartOutboundVoiceContact), on a chat it is a customer's chat widget.
_OUTBOUND = frozenset({"OUTBOUND", "EXTERNAL_OUTBOUND"})
_ROLES = {"CUSTOMER": "customer", "AGENT": "agent", "SUPERVISOR": "agent", "SYSTEM": "system", "CUSTOM_BOT": "system"}
# Counted, not archived: a task is work for an agent, not a conversation with a customer.
SKIPPED_TASK = "task"
# Contact Lens transcripts are read (``contact_lens_segments``) but not stored until calls carry a
# transcript (CONTRACT §17, issue 22): counted under this reason until then.
SKIPPED_CONTACT_LENS = "contact_lens_transcript"


@dataclass
class _Beside:
    """What the side folders hold for one contact (paths relative to the source)."""

    transcripts: list[str] = field(default_factory=list)
    recording: str | None = None
    analysis: list[str] = field(default_factory=list)


@dataclass
class _Layout:
    records: list[str] = field(default_factory=list)
    beside: dict[str, _Beside] = field(default_factory=dict)


def _contact_id(path: str) -> str:
    return path.rsplit("/", 1)[-1].split("_", 1)[0]


def _layout(source: Source) -> _Layout:
    layout = _Layout()
    for path in source.files():
        parts = path.split("/")
        name = parts[-1]
        folders = parts[:-1]
        if name.startswith("."):
            continue
        if "ChatTranscripts" in folders and name.endswith(".json"):
            layout.beside.setdefault(_contact_id(path), _Beside()).transcripts.append(path)
        elif "CallRecordings" in folders:
            if name.lower().endswith(".wav"):
                beside = layout.beside.setdefault(_contact_id(path), _Beside())
                beside.recording = beside.recording or path
        elif ("Analysis", "Voice") in itertools.pairwise(folders):
            if name.endswith(".json"):
                layout.beside.setdefault(_contact_id(path), _Beside()).analysis.append(path)
        else:
            layout.records.append(path)
    return layout


def run(job: ImportJob) -> ImportSummary:
    source = open_source(job.source)
    summary = ImportSummary()
    layout = _layout(source)
    write_records(job, source, _items(source, layout, summary), summary)
    return summary


def _items(source: Source, layout: _Layout, summary: ImportSummary) -> Iterator[Item]:
    for path in layout.records:
        try:
            with source.open(path) as handle:
                for position, value in json_records(path, read_pieces(handle)):
                    if isinstance(value, ValueError):
                        yield Bad(position, "not valid JSON")
                    else:
                        yield contact_record(position, value, source, layout.beside, summary)
        except OSError as exc:
            summary.add_bad(path, f"the file cannot be read ({type(exc).__name__})", counted_as="unreadable_file")


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _variables(attributes: Any) -> dict[str, str]:
    if not isinstance(attributes, dict):
        return {}
    return {
        str(name): value if isinstance(value, str) else json.dumps(value)
        for name, value in attributes.items()
        if value is not None
    }


def _events(record: dict[str, Any], queue: str | None, agent: str | None) -> list[dict[str, Any]]:
    """The queue's and the agent's timestamps as raw data rows, one a timestamp."""
    events: list[dict[str, Any]] = []
    queue_info, agent_info = _object(record.get("Queue")), _object(record.get("Agent"))
    for info, name, kind, duration in (
        (queue_info, "EnqueueTimestamp", "queued", None),
        (queue_info, "DequeueTimestamp", "dequeued", "Duration"),
        (agent_info, "ConnectedToAgentTimestamp", "connected_to_agent", None),
        (agent_info, "AfterContactWorkStartTimestamp", "after_contact_work_started", None),
        (agent_info, "AfterContactWorkEndTimestamp", "after_contact_work_ended", "AfterContactWorkDuration"),
    ):
        at = info.get(name)
        if at is None:
            continue
        event: dict[str, Any] = {"at": at, "type": kind, "queue": queue}
        if info is agent_info:
            event["agent"] = agent
        seconds = info.get(duration) if duration else None
        if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0:
            event["duration_s"] = float(seconds)
        events.append(event)
    return events


def contact_record(
    position: str, record: Any, source: Source, beside: dict[str, _Beside], summary: ImportSummary
) -> Item:
    """One contact record as an interaction body, with its transcript and recording."""
    if not isinstance(record, dict):
        return Bad(position, "a contact record is a JSON object")
    contact_id = _text(record.get("ContactId"))
    if contact_id is None:
        return Bad(position, "ContactId: missing")
    if _time(record.get("InitiationTimestamp")) is None:
        return Bad(position, "InitiationTimestamp: missing or not an ISO 8601 time with an offset")
    channel = _CHANNELS.get(str(record.get("Channel")))
    if record.get("Channel") == "TASK":
        return Skipped(position, SKIPPED_TASK)
    if channel is None:
        return Bad(position, "Channel: expected VOICE, CHAT, EMAIL or TASK")
    method = record.get("InitiationMethod")
    outbound = method in _OUTBOUND or (method == "API" and channel == "call")
    endpoint, system = _object(record.get("CustomerEndpoint")), _object(record.get("SystemEndpoint"))
    address = _text(endpoint.get("Address"))
    kind = endpoint.get("Type")
    # TELEPHONE_NUMBER or EMAIL_ADDRESS as documented; without a type, an address (not a SIP URI) is an email.
    is_email = kind == "EMAIL_ADDRESS" or (
        kind != "TELEPHONE_NUMBER" and address is not None and "@" in address and not address.lower().startswith("sip")
    )
    queue = _text(_object(record.get("Queue")).get("Name"))
    agent = _text(_object(record.get("Agent")).get("Username"))
    data: dict[str, Any] = {
        "channel": channel,
        "direction": "outbound" if outbound else "inbound",
        "started_at": record["InitiationTimestamp"],
        "ended_at": record.get("DisconnectTimestamp"),
        "external_id": contact_id,
        "queue": queue,
        "agent": agent,
        "customer": {"email": address} if is_email else {"phone": address},
        "service_number": _text(system.get("Address")),
        "variables": _variables(record.get("Attributes")),
        "events": _events(record, queue, agent),
    }
    found = beside.get(contact_id, _Beside())
    if channel == "chat":
        data["messages"] = _messages(found.transcripts, source, summary)
    for _path in found.analysis:
        # Hook for CONTRACT §17 (issue 22): contact_lens_segments(document) reads the segments.
        summary.skipped[SKIPPED_CONTACT_LENS] += 1
    body = validated(position, data, summary)
    if isinstance(body, Bad):
        return body
    return Record(
        position,
        body,
        updated_at=_time(record.get("LastUpdateTimestamp")),
        recording=found.recording if channel == "call" else None,
    )


def _messages(paths: list[str], source: Source, summary: ImportSummary) -> list[dict[str, Any]]:
    """The MESSAGE items of a chat's transcript files, oldest first."""
    messages: list[dict[str, Any]] = []
    for path in paths:
        try:
            with source.open(path) as handle:
                document = json.load(handle)
        except (OSError, ValueError):
            summary.add_bad(path, "the chat transcript cannot be read", counted_as="bad_transcript")
            continue
        items = document.get("Transcript") if isinstance(document, dict) else None
        if not isinstance(items, list):
            summary.add_bad(path, "Transcript: missing", counted_as="bad_transcript")
            continue
        summary.transcripts += 1
        for item in items:
            if not isinstance(item, dict) or item.get("Type") != "MESSAGE" or not isinstance(item.get("Content"), str):
                continue
            messages.append(
                {
                    "at": item.get("AbsoluteTime"),
                    "from": _ROLES.get(str(item.get("ParticipantRole")), "system"),
                    "text": item["Content"],
                }
            )
    messages.sort(key=lambda m: str(m["at"]))
    return messages


def contact_lens_segments(document: Any) -> list[dict[str, Any]]:
    """A Contact Lens analysis's transcript as CONTRACT §17's segments (speaker, begin, end, text).

    Not stored yet: calls carry a transcript once issue 22 lands; then ``contact_record`` passes
    these as the body's ``transcript`` instead of counting the file under ``SKIPPED_CONTACT_LENS``.
    """
    segments: list[dict[str, Any]] = []
    items = document.get("Transcript") if isinstance(document, dict) else None
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and isinstance(item.get("Content"), str):
            segments.append(
                {
                    "begin_ms": item.get("BeginOffsetMillis"),
                    "end_ms": item.get("EndOffsetMillis"),
                    "speaker": _ROLES.get(str(item.get("ParticipantId")), "system"),
                    "text": item["Content"],
                }
            )
    return segments
