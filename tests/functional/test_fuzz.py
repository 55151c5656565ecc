"""Schemathesis against /openapi.json with an admin token: no 5xx, nothing the document does not declare.

Bounded: ``ARCHIVIST_FUZZ_EXAMPLES`` examples per operation (default a short run for
``make test``; ``make fuzz`` asks for enough to pass 10,000 requests per database).
``ARCHIVIST_FUZZ_REPORT`` names a JSON file for the figures (requests, statuses).
"""

from __future__ import annotations

import collections
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.transport.serialization import serialize_binary

from archivist.accounts.models import Role, Solution
from tests.conftest import BACKEND, TokenMaker, auth

EXAMPLES = int(os.environ.get("ARCHIVIST_FUZZ_EXAMPLES", "5"))
REPORT = os.environ.get("ARCHIVIST_FUZZ_REPORT")
CHECKS = [
    not_a_server_error,  # any 5xx fails
    status_code_conformance,  # every status the app answers is declared for the operation
    content_type_conformance,  # and with the declared media type
    response_schema_conformance,  # and the declared shape (422's string detail plus errors)
    response_headers_conformance,
]
# The operations' own data, so that reads and deletes find something and walk pages.
SEED = [
    {
        "channel": "call",
        "direction": "inbound",
        "started_at": f"2026-03-0{day}T09:00:00+01:00",
        "customer": {"phone": "41987654", "email": "canary.7f3a@example.org", "name": "Kari Canary"},
        "variables": {"order": "A-17"},
        "events": [{"at": f"2026-03-0{day}T09:00:00+01:00", "type": "offered", "duration_s": 1.5}],
    }
    for day in range(1, 6)
]

STATS: collections.Counter[str] = collections.Counter()


# schemathesis takes a {"data": bytes} answer at run time; its hints name only bytes.
@schemathesis.serializer("audio/wav")  # type: ignore[arg-type]
def _audio(_: schemathesis.SerializationContext, value: Any) -> dict[str, Any]:
    # The recording upload's body is raw audio (declared audio/*): sent as the bytes generated.
    return {"data": serialize_binary(value)}


@schemathesis.serializer("message/rfc822")  # type: ignore[arg-type]
def _message(_: schemathesis.SerializationContext, value: Any) -> dict[str, Any]:
    # An email as it arrives (CONTRACT §15) is raw bytes too: whatever is generated is posted.
    return {"data": serialize_binary(value)}


@pytest.fixture
def fuzz_token(make_token: TokenMaker, solution: Solution) -> str:
    return make_token(Role.ADMIN, solution)


# Figures per generation mode, kept across the tests of a run for the report.
RUNS: dict[str, dict[str, Any]] = {}


@pytest.fixture
def api_schema(app: Any, client: Any, fuzz_token: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    for body in SEED:
        assert client.post("/api/v1/interactions", json=body, headers=auth(fuzz_token)).status_code == 201
    assert client.post("/api/v1/anonymization-requests", json={"phone": "41987654"}, headers=auth(fuzz_token))
    STATS.clear()
    started = time.monotonic()
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    RUNS[request.node.callspec.id] = {"seconds": round(time.monotonic() - started, 1), **STATS}
    totals: collections.Counter[str] = collections.Counter()
    for run in RUNS.values():
        totals.update({k: v for k, v in run.items() if isinstance(v, int | float)})
    figures = {
        "backend": BACKEND,
        "examples_per_operation": EXAMPLES,
        "total": dict(sorted(totals.items())),
        "runs": RUNS,
    }
    print(f"\nfuzz figures: {json.dumps(figures, sort_keys=True)}")
    if REPORT:
        Path(REPORT).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


def fuzz_operation(operation: Any, token: str, mode: GenerationMode) -> None:
    """``EXAMPLES`` generated requests to one operation, every response checked."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=EXAMPLES <= 5,  # the short run in `make test` is the same every time
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call_and_validate(headers=auth(token), checks=CHECKS)
        STATS["requests"] += 1
        STATS[f"status_{response.status_code}"] += 1
        if response.status_code >= 500:
            STATS["server_errors"] += 1

    run()


def _can_be_invalid(operation: Any) -> bool:
    """Whether an operation takes input that can be wrong (a body, a query parameter): any path
    string is a valid id, so an operation with only those has no invalid requests to make."""
    definition = operation.definition.raw
    return "requestBody" in definition or any(p.get("in") == "query" for p in definition.get("parameters", []))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_api_answers_no_5xx_and_only_what_it_declares(api_schema: Any, fuzz_token: str, mode: GenerationMode) -> None:
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if mode is GenerationMode.NEGATIVE and not _can_be_invalid(operation):
            continue
        try:
            fuzz_operation(operation, fuzz_token, mode)
        except Unsatisfiable:
            # Schemathesis could not make an invalid request of this operation (every value fits).
            STATS["operations_without_invalid_input"] += 1
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
