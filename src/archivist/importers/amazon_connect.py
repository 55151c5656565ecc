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
# Contact Lens transcript items left out of a call's transcript: no text, or offsets that are not
# whole milliseconds in order (CONTRACT §17 refuses them); the rest of the transcript is kept.
SKIPPED_SEGMENT = "transcript_segment_unreadable"


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
    if channel == "call" and found.analysis:
        transcript = _contact_lens(found.analysis, source, summary)
        if transcript is not None:
            data["transcript"] = transcript
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


def _contact_lens(paths: list[str], source: Source, summary: ImportSummary) -> list[dict[str, Any]] | None:
    """The call's transcript from its Contact Lens analysis (CONTRACT §17), or None when none can be read.

    Contact Lens writes the analysis twice when it redacts: the original and, under
    ``Analysis/Voice/Redacted/``, a twin with ``[PII]`` in the text. The original is the transcript
    (erasure replaces what must go); the redacted twin serves only when it is all there is. Of
    several analyses of one contact, the latest (the timestamp ends its name) counts.
    """
    originals = sorted(p for p in paths if "Redacted" not in p.split("/")[:-1])
    path = (originals or sorted(paths))[-1]
    try:
        with source.open(path) as handle:
            document = json.load(handle)
    except (OSError, ValueError):
        summary.add_bad(path, "the Contact Lens analysis cannot be read", counted_as="bad_transcript")
        return None
    if not isinstance(document, dict) or not isinstance(document.get("Transcript"), list):
        summary.add_bad(path, "Transcript: missing", counted_as="bad_transcript")
        return None
    segments, left_out = contact_lens_segments(document)
    summary.transcripts += 1
    if left_out:
        summary.skipped[SKIPPED_SEGMENT] += left_out
    return segments


def _offset(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def contact_lens_segments(document: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """A Contact Lens analysis's ``Transcript`` as CONTRACT §17's segments, in time order, and how many
    items were left out (no text, or offsets that are not whole milliseconds with end >= begin).

    An item's ``ParticipantId`` is CUSTOMER or AGENT, or an id that ``Participants`` maps to its
    ``ParticipantRole`` (both forms appear in the documented examples:
    https://docs.aws.amazon.com/connect/latest/adminguide/contact-lens-example-output-files.html).
    """
    roles = {
        str(p.get("ParticipantId")): str(p.get("ParticipantRole"))
        for p in document.get("Participants") or ()
        if isinstance(p, dict)
    }
    segments: list[dict[str, Any]] = []
    left_out = 0
    for item in document["Transcript"]:
        if not isinstance(item, dict):
            left_out += 1
            continue
        begin, end, text = (
            _offset(item.get("BeginOffsetMillis")),
            _offset(item.get("EndOffsetMillis")),
            item.get("Content"),
        )
        if begin is None or end is None or end < begin or not isinstance(text, str):
            left_out += 1
            continue
        participant = str(item.get("ParticipantId"))
        segments.append(
            {
                "begin_ms": begin,
                "end_ms": end,
                "speaker": _ROLES.get(roles.get(participant, participant), "system"),
                "text": text,
            }
        )
    segments.sort(key=lambda segment: (segment["begin_ms"], segment["end_ms"]))
    return segments, left_out
