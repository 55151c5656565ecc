"""``--format csv --mapping FILE``: a UTF-8 CSV with a header row, one interaction a row (CONTRACT §16).

The mapping is JSON ``{"delimiter": ",", "columns": {field: column}}``: a field is a name of
the interaction body of ``POST /api/v1/interactions`` (§6), dotted for nested ones
(``customer.phone``, ``variables.<name>``), and values are read as the API reads them. One
more field, ``updated_at``, names the column with the record's update time (re-delivery).
SOURCE is a file or a folder of ``.csv`` files; a bad row is reported by its line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archivist.importers import ImportJob, ImportSummary, SourceUnreadable
from archivist.importers.pipeline import Bad, Item, Record, validated, write_records
from archivist.importers.sources import Source, open_source, read_mapping

# The body's fields a cell can fill (lists — messages, events — have no single cell).
FIELDS = frozenset(
    {
        "channel",
        "direction",
        "started_at",
        "ended_at",
        "queue",
        "agent",
        "external_id",
        "customer.phone",
        "customer.email",
        "customer.name",
        "service_number",
        "subject",
        "body",
        "updated_at",
    }
)
# A cell larger than this is no field of an interaction (the csv module's default is 128 KiB).
_MAX_CELL = 2_000_000


@dataclass(frozen=True)
class Mapping:
    delimiter: str
    columns: dict[str, str]  # field -> column


def mapping_of(raw: dict[str, Any]) -> Mapping:
    """Validate a mapping file's content; SourceUnreadable (exit 2) names what is wrong."""
    delimiter = raw.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise SourceUnreadable("the mapping's delimiter must be one character")
    columns = raw.get("columns")
    if not isinstance(columns, dict) or not columns or not all(isinstance(c, str) for c in columns.values()):
        raise SourceUnreadable('the mapping needs "columns": {field: column name}')
    for name in columns:
        if name not in FIELDS and not (name.startswith("variables.") and len(name) > len("variables.")):
            raise SourceUnreadable(f"the mapping names an unknown field: {name}")
    for required in ("channel", "direction", "started_at"):
        if required not in columns:
            raise SourceUnreadable(f"the mapping must name the column of {required}")
    return Mapping(delimiter, dict(columns))


def run(job: ImportJob) -> ImportSummary:
    if job.mapping is None:
        raise SourceUnreadable("--format csv needs --mapping FILE")
    mapping = mapping_of(read_mapping(job.mapping))
    source = open_source(job.source)
    paths = [p for p in source.files() if source.single_file or p.lower().endswith(".csv")]
    summary = ImportSummary()
    write_records(job, source, _items(source, paths, mapping, summary), summary)
    return summary


def _items(source: Source, paths: list[str], mapping: Mapping, summary: ImportSummary) -> Iterator[Item]:
    csv.field_size_limit(_MAX_CELL)
    for path in paths:
        try:
            with source.open(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
                reader = csv.DictReader(text, delimiter=mapping.delimiter)
                header = set(reader.fieldnames or ())
                missing = sorted(set(mapping.columns.values()) - header)
                if missing:
                    summary.add_bad(path, "the header lacks columns the mapping names", counted_as="bad_file")
                    continue
                line = reader.line_num
                for row in reader:
                    start, line = line + 1, reader.line_num
                    yield row_record(f"{path}:{start}", row, mapping, summary)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            summary.add_bad(path, f"the file cannot be read as UTF-8 CSV ({type(exc).__name__})", counted_as="bad_file")


def row_record(position: str, row: dict[str, str | None], mapping: Mapping, summary: ImportSummary) -> Item:
    """One CSV row as an interaction body; an empty cell is an absent field."""
    data: dict[str, Any] = {}
    updated: datetime | None = None
    for name, column in mapping.columns.items():
        value = row.get(column)
        if value is None or not value.strip():
            continue
        if name == "updated_at":
            try:
                updated = datetime.fromisoformat(value.strip())
            except ValueError:
                return Bad(position, "updated_at: not an ISO 8601 time")
            if updated.tzinfo is None:
                return Bad(position, "updated_at: needs an offset")
            continue
        target = data
        *parents, leaf = name.split(".", 1) if name.startswith(("customer.", "variables.")) else [name]
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value  # as it came: the body's validation reads it as the API would
    body = validated(position, data, summary)
    if isinstance(body, Bad):
        return body
    return Record(position, body, updated_at=updated)
