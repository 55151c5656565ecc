"""``--format genesys``: Genesys Cloud conversation details and recording exports (CONTRACT §16).

Conversation details as the analytics jobs write them (``{"conversations": [...]}``, a page a
file) or one conversation a line, field names as documented in
https://developer.genesys.cloud/analyticsdatamanagement/analytics/detail/ (participants,
sessions with ``mediaType``, ``ani``/``dnis``, ``addressFrom``/``addressTo``, segments with
``queueId``). Recordings from the recording bulk export
(https://help.mypurecloud.com/articles/about-the-aws-s3-recording-bulk-actions-integration/):
``…/conversation_id=<id>/<recordingId>.<ext>`` beside ``<recordingId>_metadata.json``.
``--mapping`` names queues and users: ``{"queues": {id: name}, "users": {id: name}}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from archivist.archive.schemas import MAX_EVENTS
from archivist.identifiers import platform_phone
from archivist.importers import ImportJob, ImportSummary, SourceUnreadable
from archivist.importers.pipeline import (
    AUDIO_TYPES,
    Bad,
    Item,
    Record,
    Skipped,
    json_records,
    read_pieces,
    validated,
    write_records,
)
from archivist.importers.sources import Source, open_source, read_mapping

_CHANNELS = {"voice": "call", "chat": "chat", "message": "chat", "email": "email"}
_CUSTOMER = frozenset({"customer", "external"})


def _names(mapping: dict[str, Any], kind: str) -> dict[str, str]:
    names = mapping.get(kind, {})
    if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
        raise SourceUnreadable(f"the mapping's {kind} must be an object of id to name")
    return {str(k): v for k, v in names.items()}


def run(job: ImportJob) -> ImportSummary:
    mapping = read_mapping(job.mapping)
    queues, users = _names(mapping, "queues"), _names(mapping, "users")
    source = open_source(job.source)
    conversations: list[str] = []
    recordings: dict[str, str] = {}
    for path in source.files():
        folder = next((p for p in path.split("/")[:-1] if p.startswith("conversation_id=")), None)
        name = path.rsplit("/", 1)[-1]
        if folder is not None:
            suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
            if suffix in AUDIO_TYPES:
                recordings.setdefault(folder.removeprefix("conversation_id="), path)
        elif not name.startswith("."):
            conversations.append(path)
    summary = ImportSummary()
    write_records(job, source, _items(source, conversations, recordings, queues, users, summary), summary)
    return summary


def _items(
    source: Source,
    paths: list[str],
    recordings: dict[str, str],
    queues: dict[str, str],
    users: dict[str, str],
    summary: ImportSummary,
) -> Iterator[Item]:
    for path in paths:
        try:
            with source.open(path) as handle:
                for position, value in json_records(path, read_pieces(handle)):
                    if isinstance(value, ValueError):
                        yield Bad(position, "not valid JSON")
                    elif isinstance(value, dict) and isinstance(value.get("conversations"), list):
                        # An analytics job's page: its conversations numbered within the file.
                        for number, conversation in enumerate(value["conversations"], start=1):
                            yield conversation_record(
                                f"{path}:{number}", conversation, recordings, queues, users, summary
                            )
                    else:
                        yield conversation_record(position, value, recordings, queues, users, summary)
        except OSError as exc:
            summary.add_bad(path, f"the file cannot be read ({type(exc).__name__})", counted_as="unreadable_file")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _sessions(participant: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _list(participant.get("sessions")) if isinstance(s, dict)]


def _segments(session: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _list(session.get("segments")) if isinstance(s, dict)]


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def conversation_record(
    position: str,
    conversation: Any,
    recordings: dict[str, str],
    queues: dict[str, str],
    users: dict[str, str],
    summary: ImportSummary,
) -> Item:
    """One conversation as an interaction body: its customer, channel, queue and agent."""
    if not isinstance(conversation, dict):
        return Bad(position, "a conversation is a JSON object")
    cid = conversation.get("conversationId")
    if not isinstance(cid, str) or not cid.strip():
        return Bad(position, "conversationId: missing")
    if _time(conversation.get("conversationStart")) is None:
        return Bad(position, "conversationStart: missing or not an ISO 8601 time with an offset")
    participants = [p for p in _list(conversation.get("participants")) if isinstance(p, dict)]
    customer = next((p for p in participants if p.get("purpose") in _CUSTOMER), None)
    sessions = _sessions(customer) if customer else [s for p in participants for s in _sessions(p)]
    media = next((s.get("mediaType") for s in sessions if s.get("mediaType")), None)
    channel = _CHANNELS.get(str(media))
    if channel is None:
        return Skipped(position, f"media_{media}" if isinstance(media, str) else "media_unknown")
    outbound = conversation.get("originatingDirection") == "outbound"
    first = sessions[0] if sessions else {}
    if outbound:
        address, service = first.get("dnis") or first.get("addressTo"), first.get("ani")
    else:
        address, service = first.get("ani") or first.get("addressFrom"), first.get("dnis")
    address = address if isinstance(address, str) and address.strip() else None
    is_email = channel == "email" or (address is not None and "@" in address and not address.startswith("sip"))
    queue_id = next(
        (
            seg["queueId"]
            for p in participants
            for s in _sessions(p)
            for seg in _segments(s)
            if isinstance(seg.get("queueId"), str)
        ),
        None,
    )
    agent = next((p for p in participants if p.get("purpose") == "agent"), None)
    agent_id = agent.get("userId") if agent else None
    agent_name = users.get(agent_id, agent_id) if isinstance(agent_id, str) else None
    queue_name = queues.get(queue_id, queue_id) if queue_id else None
    events: list[dict[str, Any]] = []
    for p in participants:
        if p.get("purpose") not in ("acd", "agent"):
            continue
        for s in _sessions(p):
            for seg in _segments(s):
                if isinstance(seg.get("segmentStart"), str) and isinstance(seg.get("segmentType"), str):
                    seg_queue = seg.get("queueId")
                    events.append(
                        {
                            "at": seg["segmentStart"],
                            "type": f"{p['purpose']}_{seg['segmentType']}"[:40],
                            "queue": queues.get(seg_queue, seg_queue) if isinstance(seg_queue, str) else None,
                            "agent": agent_name if p.get("purpose") == "agent" else None,
                        }
                    )
    attributes = _object(customer.get("attributes")) if customer else {}
    name = customer.get("participantName") if customer else None
    data: dict[str, Any] = {
        "channel": channel,
        "direction": "outbound" if outbound else "inbound",
        "started_at": conversation["conversationStart"],
        "ended_at": conversation.get("conversationEnd"),
        "external_id": cid.strip(),
        "queue": queue_name,
        "agent": agent_name,
        "customer": {
            "email" if is_email else "phone": address,
            "name": name if isinstance(name, str) and name.strip() else None,
        },
        "service_number": platform_phone(service) if isinstance(service, str) else None,
        "variables": {str(k): v for k, v in attributes.items() if isinstance(v, str)},
        "events": events[:MAX_EVENTS],
    }
    body = validated(position, data, summary)
    if isinstance(body, Bad):
        return body
    return Record(
        position,
        body,
        # A conversation exported again after it changed (a wrap-up, a later segment) ends later.
        updated_at=_time(conversation.get("conversationEnd")),
        recording=recordings.get(cid.strip()) if channel == "call" else None,
    )
