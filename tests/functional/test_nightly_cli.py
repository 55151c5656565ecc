"""`archivist nightly`: the same run from the command line, with --as-of and --solution."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.nightly.models import NightlyRun
from tests.functional.anonymization_support import archive, call, customer, enter, oslo
from tests.functional.conftest import Runner

# Starts processes (the CLI, servers, workers): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow

ARCHIVIST = str(Path(sys.executable).with_name("archivist"))


@pytest.fixture
def nightly(database_url: str, tmp_path: Path) -> Runner:
    env = {
        **os.environ,
        "ARCHIVIST_DATABASE_URL": database_url,
        "ARCHIVIST_DATA_DIR": str(tmp_path / "var"),
        "ARCHIVIST_BLOB_URL": f"file://{tmp_path / 'blobs'}",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ARCHIVIST, "nightly", *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    return run


def test_nightly_as_of_with_an_offset_processes_and_prints_a_summary(
    nightly: Runner,
    session_factory: sessionmaker[Session],
    solution: Solution,
) -> None:
    (iid,) = archive(session_factory, solution, call("91234567", oslo(2026, 3, 10, 9)))
    request_id = enter(session_factory, solution, oslo(2026, 3, 10, 12), phone="91234567")

    result = nightly("--as-of", "2026-03-11T02:00:00+01:00")

    assert result.returncode == 0, result.stderr
    assert "1 requests processed" in result.stdout
    assert "1 interactions anonymized" in result.stdout
    assert "91234567" not in result.stdout + result.stderr
    assert customer(session_factory, iid)["anonymized"] is True
    with session_factory() as session:
        request = session.get(AnonymizationRequest, request_id)
        assert request is not None
        assert request.status is RequestStatus.DONE
        assert request.processed_at == datetime(2026, 3, 11, 1, 0, tzinfo=UTC)


def test_nightly_as_of_without_offset_is_the_solutions_local_time(
    nightly: Runner,
    session_factory: sessionmaker[Session],
    solution: Solution,
) -> None:
    result = nightly("--solution", solution.id, "--as-of", "2026-03-11T02:00")

    assert result.returncode == 0, result.stderr
    with session_factory() as session:
        run = session.scalars(select(NightlyRun)).one()
    assert run.as_of == datetime(2026, 3, 11, 1, 0, tzinfo=UTC)  # 02:00 in Oslo's winter
    assert run.trigger == "cli"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--as-of", "yesterday"), "ISO-8601"),  # not a time
        (("--solution", "no-such-solution"), "no such solution"),
    ],
)
def test_nightly_refuses_bad_arguments_with_exit_2(
    nightly: Runner,
    solution: Solution,
    args: tuple[str, ...],
    message: str,
) -> None:
    result = nightly(*args)

    assert result.returncode == 2
    assert message in result.stderr
