"""The distributed tier's job queue: `archivist nightly --enqueue` and `archivist worker` processes.

Real worker processes of the real CLI share the PostgreSQL queue (procrastinate). Each
solution's night runs exactly once however the jobs are picked, and a worker killed mid-night
leaves its job to another, which finishes the night. SQLite has no queue and says so.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import Solution
from archivist.anonymize.models import AnonymizationRequest, RequestStatus
from archivist.archive.models import Interaction, Mention
from archivist.config import Settings
from archivist.db import utcnow
from archivist.identifiers_text import SCANNER_VERSION
from archivist.nightly.models import NightlyRun
from archivist.nightly.queue import NIGHT_TASK, QUEUE, TABLE_PREFIX, make_app, night_due
from tests.conftest import BACKEND, TEST_SECRET_KEY
from tests.functional.anonymization_support import archive, call, enter, oslo
from tests.functional.conftest import ARCHIVIST

REQUESTS_EACH = 3
CALLS_EACH = 2
ENTERED = oslo(2026, 3, 10, 12, 0)
QUEUE_TABLES = [f"{TABLE_PREFIX}{name}" for name in ("events", "periodic_defers", "jobs", "workers")]

postgres_only = pytest.mark.skipif(
    BACKEND != "postgresql", reason="the job queue is PostgreSQL only (set ARCHIVIST_TEST_POSTGRES_URL)"
)


def test_the_migration_holds_the_pinned_procrastinate_schema() -> None:
    # Migration 0016 carries a verbatim copy of procrastinate's schema.sql. Once the pin moves
    # this fails: the new version's schema then comes from a new migration (see 0016's docstring).
    import importlib.metadata
    import importlib.resources
    import importlib.util

    path = Path(__file__).parents[2] / "src/archivist/migrations/versions/0016_job_queue.py"
    spec = importlib.util.spec_from_file_location("migration_0016", path)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    installed = (importlib.resources.files("procrastinate.sql") / "schema.sql").read_text(encoding="utf-8")
    assert importlib.metadata.version("procrastinate") == migration.PROCRASTINATE_VERSION
    assert migration.SCHEMA.strip() == installed.strip()


@pytest.mark.parametrize("args", [("worker",), ("nightly", "--enqueue"), ("reindex-mentions", "--enqueue")])
def test_on_sqlite_the_queue_commands_refuse_with_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    env = {
        **os.environ,
        "ARCHIVIST_DATABASE_URL": f"sqlite:///{tmp_path / 'archivist.db'}",
        "ARCHIVIST_DATA_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run([ARCHIVIST, *args], env=env, capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 2
    assert "needs PostgreSQL" in result.stderr


Workers = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ARCHIVIST_DATABASE_URL": database_url,
        "ARCHIVIST_DATA_DIR": str(tmp_path / "var"),
        "ARCHIVIST_BLOB_URL": f"file://{tmp_path / 'blobs'}",
        "ARCHIVIST_SECRET_KEY": TEST_SECRET_KEY,
        # Given, as on a tier of several machines, rather than made by the first process to start.
        "ARCHIVIST_SIGNING_KEY": base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode(),
        # A short lease, so that a killed worker's night is taken over within seconds, and a pause
        # after each request, so that a night lasts long enough to be shared or killed mid-way.
        "ARCHIVIST_NIGHTLY_LEASE_SECONDS": "2",
        "ARCHIVIST_NIGHTLY_REQUEST_PAUSE_MS": "400",
    }


@pytest.fixture
def queue(engine: Engine) -> Iterator[Engine]:
    """The queue's tables empty before and after the test (the engine fixture empties only ours)."""

    def empty() -> None:
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(QUEUE_TABLES)} RESTART IDENTITY CASCADE"))

    empty()
    yield engine
    empty()


@pytest.fixture
def workers(env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    """Starts `archivist worker` processes; any still running at the end are killed."""
    started: list[subprocess.Popen[str]] = []
    logs: list[TextIO] = []

    def start(*args: str) -> subprocess.Popen[str]:
        log = (tmp_path / f"worker-{len(started)}.log").open("w")
        logs.append(log)
        process = subprocess.Popen(
            [ARCHIVIST, "worker", "--stalled-after", "2", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    for log in logs:
        log.close()


def settle(engine: Engine, ready: Callable[[Session], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    with Session(engine) as session:
        while not ready(session):
            if time.monotonic() > deadline:
                pytest.fail("the workers did not get there in time")
            session.rollback()  # a fresh snapshot for the next look
            time.sleep(0.2)


def workers_registered(engine: Engine, count: int) -> None:
    settle(engine, lambda s: s.scalar(text("SELECT count(*) FROM procrastinate_workers")) == count)


def jobs_final(session: Session) -> bool:
    return not session.scalar(text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"))


def mid_night(session: Session) -> bool:
    """The run has started and processed a request, and has more to do."""
    done = session.scalar(
        select(func.count()).select_from(AnonymizationRequest).where(AnonymizationRequest.status == "done")
    )
    return 0 < (done or 0) < REQUESTS_EACH


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


def seed(factory: sessionmaker[Session], solution: Solution, first: int) -> list[str]:
    """REQUESTS_EACH people with CALLS_EACH calls each, and a request for each; their numbers."""
    numbers = [f"9{first + n:07d}" for n in range(REQUESTS_EACH)]
    archive(
        factory,
        solution,
        *[
            call(number, oslo(2026, 3, 1 + day, 9), external_id=f"{number}-{day}")
            for number in numbers
            for day in range(CALLS_EACH)
        ],
    )
    for number in numbers:
        enter(factory, solution, ENTERED, phone=number)
    return numbers


def finished_runs(factory: sessionmaker[Session]) -> dict[str, int]:
    """Per solution, the runs that went to the end (a stopped run records its end too, ``stopped``)."""
    with factory() as session:
        runs = session.scalars(select(NightlyRun).where(NightlyRun.finished_at.is_not(None))).all()
    return dict(Counter(run.solution_id for run in runs if run.summary and not run.summary["stopped"]))


def assert_every_request_done_once(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        rows = session.scalars(select(AnonymizationRequest)).all()
    assert {r.status for r in rows} == {RequestStatus.DONE}
    # Processed twice, a request would have found its interactions anonymized already (0 the second time).
    assert {r.result["interactions"] for r in rows if r.result} == {CALLS_EACH}


def enqueue(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [ARCHIVIST, "nightly", "--enqueue"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


@postgres_only
def test_two_workers_run_each_solutions_night_exactly_once(
    queue: Engine,
    env: dict[str, str],
    settings: Settings,
    workers: Workers,
    session_factory: sessionmaker[Session],
    solution: Solution,
    other_solution: Solution,
) -> None:
    with session_factory() as session, session.begin():
        third = accounts.create_solution(session, name="Third centre", country="DK", timezone="Europe/Copenhagen")
    targets = [solution, other_solution, third]
    numbers = [n for i, target in enumerate(targets) for n in seed(session_factory, target, i * 100)]
    pair = [workers(), workers()]
    workers_registered(queue, 2)

    # First a job for the first solution's night without the queue's locks, then the CLI's job per
    # solution: two workers then hold jobs for the same night at once, and only the lease keeps it
    # to one run (the other job finds the night running, waits half a lease, and finds it done).
    night = night_due(solution.nightly_at, solution.timezone, utcnow()).isoformat()
    app = make_app(settings)
    with app.open():
        app.configure_task(NIGHT_TASK, queue=QUEUE).defer(solution_id=solution.id, night=night)
    result = enqueue(env)
    settle(queue, jobs_final)

    assert all(stop(process) == 0 for process in pair)
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [f"solution {t.id}" for t in targets]
    assert finished_runs(session_factory) == {t.id: 1 for t in targets}
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(NightlyRun)) == len(targets)  # none started twice
    assert_every_request_done_once(session_factory)
    with queue.connect() as conn:
        jobs = conn.execute(text("SELECT status::text, args FROM procrastinate_jobs")).all()
    assert {status for status, _ in jobs} == {"succeeded"}
    # A job's arguments are ids: the solution and the night, never a person's identifier.
    assert {tuple(sorted(args)) for _, args in jobs} == {("night", "solution_id")}
    assert {args["solution_id"] for _, args in jobs} == {t.id for t in targets}
    stored = json.dumps([args for _, args in jobs])
    assert not [n for n in numbers if n[1:] in stored]


@postgres_only
def test_a_worker_killed_mid_night_leaves_its_job_to_another_and_the_night_completes_once(
    queue: Engine,
    env: dict[str, str],
    workers: Workers,
    session_factory: sessionmaker[Session],
    solution: Solution,
) -> None:
    seed(session_factory, solution, 0)
    doomed = workers()
    workers_registered(queue, 1)
    enqueue(env)

    settle(queue, mid_night, timeout=60)
    doomed.kill()  # SIGKILL: no shutdown code, the job stays "doing" and the lease held
    doomed.wait(timeout=30)
    heir = workers()
    settle(queue, jobs_final)

    assert stop(heir) == 0
    with queue.connect() as conn:
        status, attempts = conn.execute(text("SELECT status::text, attempts FROM procrastinate_jobs")).one()
    assert status == "succeeded"
    assert attempts >= 2
    # The killed run left its record unfinished; the night was finished once, by the heir.
    assert finished_runs(session_factory) == {solution.id: 1}
    assert_every_request_done_once(session_factory)


@postgres_only
def test_a_worker_stopped_with_sigterm_gives_the_night_back_and_another_finishes_it(
    queue: Engine,
    env: dict[str, str],
    workers: Workers,
    session_factory: sessionmaker[Session],
    solution: Solution,
) -> None:
    seed(session_factory, solution, 0)
    first = workers()
    workers_registered(queue, 1)
    enqueue(env)
    settle(queue, mid_night, timeout=60)

    assert stop(first) == 0  # it stops after the request it is on, without waiting out the night
    with queue.connect() as conn:
        status, attempts = conn.execute(text("SELECT status::text, attempts FROM procrastinate_jobs")).one()
    assert (status, attempts) == ("todo", 1)  # back on the queue, for any worker
    assert finished_runs(session_factory) == {}
    second = workers()
    settle(queue, jobs_final)

    assert stop(second) == 0
    assert finished_runs(session_factory) == {solution.id: 1}
    assert_every_request_done_once(session_factory)


def mentions_of(factory: sessionmaker[Session], solution: Solution) -> list[tuple[str, str]]:
    with factory() as session:
        rows = session.execute(
            select(Mention.interaction_id, Mention.key).where(Mention.solution_id == solution.id).order_by(Mention.id)
        )
        return sorted((iid, key) for iid, key in rows)


@postgres_only
def test_reindexing_is_queued_once_per_solution_and_a_worker_rebuilds_the_index(
    queue: Engine,
    env: dict[str, str],
    workers: Workers,
    session_factory: sessionmaker[Session],
    solution: Solution,
    other_solution: Solution,
    tmp_path: Path,
) -> None:
    numbers = seed(session_factory, solution, 0) + seed(session_factory, other_solution, 100)
    before = {s.id: mentions_of(session_factory, s) for s in (solution, other_solution)}
    assert all(before.values())
    # As after the secret changed or with an older scanner's index: the index is gone.
    with session_factory() as session, session.begin():
        session.execute(text("DELETE FROM mentions"))
        session.execute(text("UPDATE solutions SET mention_scanner_version = 0"))

    def reindex(*args: str) -> list[str]:
        result = subprocess.run(
            [ARCHIVIST, "reindex-mentions", "--enqueue", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    first = reindex()
    assert [line.split(":")[0] for line in first] == [f"solution {solution.id}", f"solution {other_solution.id}"]
    assert all("re-indexing queued as job" in line for line in first)
    # Waiting in the queue, a solution's re-indexing is not queued twice.
    assert reindex("--solution", solution.id) == [f"solution {solution.id}: re-indexing already queued"]
    assert mentions_of(session_factory, solution) == []

    worker = workers()
    settle(queue, jobs_final)
    assert stop(worker) == 0

    assert {s.id: mentions_of(session_factory, s) for s in (solution, other_solution)} == before
    with session_factory() as session:
        versions = set(session.scalars(select(Solution.mention_scanner_version)))
    assert versions == {SCANNER_VERSION}
    with queue.connect() as conn:
        jobs = conn.execute(text("SELECT task_name, queue_name, status::text, args FROM procrastinate_jobs")).all()
    assert (
        sorted((task, queue_name, status) for task, queue_name, status, _ in jobs)
        == [("archivist.mentions.reindex", "maintenance", "succeeded")] * 2
    )
    # A job's argument is the solution's id, never a person's identifier; the log says how far it got.
    assert {tuple(args) for *_, args in jobs} == {("solution_id",)}
    assert not [n for n in numbers if n[1:] in json.dumps([args for *_, args in jobs])]
    log = (tmp_path / "worker-0.log").read_text()
    assert f"reindex: solution {solution.id}: done, {len(numbers) // 2 * CALLS_EACH} interactions re-indexed" in log
    assert not [n for n in numbers if n[1:] in log]


def test_on_sqlite_a_queued_import_is_refused_with_exit_2(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ARCHIVIST_DATABASE_URL": f"sqlite:///{tmp_path / 'archivist.db'}",
        "ARCHIVIST_DATA_DIR": str(tmp_path / "var"),
    }
    subprocess.run([ARCHIVIST, "init"], env=env, capture_output=True, timeout=120, check=True)
    source = tmp_path / "in.ndjson"
    source.write_text("")
    command = [ARCHIVIST, "import", "--enqueue", str(source)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "needs PostgreSQL" in result.stderr


def _ndjson_call(external_id: str, phone: str) -> str:
    body = {
        "external_id": external_id,
        "channel": "call",
        "direction": "inbound",
        "started_at": "2026-03-01T09:00:00+01:00",
        "customer": {"phone": phone},
    }
    return json.dumps(body) + "\n"


@postgres_only
def test_an_import_is_queued_once_and_a_worker_runs_it_with_its_summary_in_the_log(
    queue: Engine,
    env: dict[str, str],
    workers: Workers,
    session_factory: sessionmaker[Session],
    solution: Solution,
    tmp_path: Path,
) -> None:
    source = tmp_path / "export.ndjson"
    phones = ["+4791234567", "+4791234568"]
    source.write_text(_ndjson_call("a", phones[0]) + '{"channel": "fax"}\n' + _ndjson_call("b", phones[1]))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ARCHIVIST, "import", *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )

    dry = run("--enqueue", "--dry-run", str(source))
    assert dry.returncode == 2
    assert "not queued" in dry.stderr
    first = run("--enqueue", str(source))
    assert first.returncode == 0, first.stderr
    assert "queued as job" in first.stdout
    again = run("--enqueue", str(source))
    assert again.returncode == 0, again.stderr
    assert "already queued" in again.stdout

    worker = workers()
    settle(queue, jobs_final)
    assert stop(worker) == 0

    with session_factory() as session:
        stored = sorted(p or "" for p in session.scalars(select(Interaction.customer_phone_e164)))
    assert stored == phones
    with queue.connect() as conn:
        jobs = conn.execute(text("SELECT task_name, status::text, args FROM procrastinate_jobs")).all()
    assert [(task, status) for task, status, _ in jobs] == [("archivist.importers.import", "succeeded")]
    # Its arguments say where to read and into which solution, nothing of what it holds.
    assert jobs[0][2] == {"format": "ndjson", "source": str(source), "mapping": None, "solution_id": solution.id}
    log = (tmp_path / "worker-0.log").read_text()
    # The bad record, by position.
    assert f"import of ndjson into solution {solution.id}: export.ndjson:2: channel:" in log
    done = next(line for line in log.splitlines() if "import of ndjson" in line and ": done: " in line)
    summary = json.loads(done.split(": done: ", 1)[1])
    assert (summary["read"], summary["created"], summary["skipped"]) == (3, 2, {"bad_record": 1})
    assert not [p for p in phones if p[3:] in log]


@postgres_only
def test_a_queued_import_whose_source_cannot_be_read_fails_once_and_says_why(
    queue: Engine, env: dict[str, str], workers: Workers, solution: Solution, tmp_path: Path
) -> None:
    missing = tmp_path / "not-there.ndjson"
    queued = subprocess.run(
        [ARCHIVIST, "import", "--enqueue", str(missing)], env=env, capture_output=True, text=True, timeout=60
    )
    assert queued.returncode == 0, queued.stderr
    worker = workers()
    settle(queue, jobs_final)
    assert stop(worker) == 0
    with queue.connect() as conn:
        status, attempts = conn.execute(text("SELECT status::text, attempts FROM procrastinate_jobs")).one()
    assert (status, attempts) == ("failed", 1)  # not retried: reading it again would fail again
    log = (tmp_path / "worker-0.log").read_text()
    assert f"import of ndjson into solution {solution.id}: cannot import:" in log


def enqueue_import(env: dict[str, str], fmt: str, source: Path) -> subprocess.CompletedProcess[str]:
    command = [ARCHIVIST, "import", "--enqueue", "--format", fmt, str(source)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


@postgres_only
def test_a_queued_import_logs_a_bad_files_name_with_the_person_in_it_masked(
    queue: Engine, env: dict[str, str], workers: Workers, solution: Solution, tmp_path: Path
) -> None:
    # Mail saved under its subject names whoever the subject names; the worker's log outlives the import.
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "Ring 912 34 567 eller kari.nordmann@example.no.eml").write_bytes(b"")
    queued = enqueue_import(env, "eml", folder)
    assert queued.returncode == 0, queued.stderr
    worker = workers()
    settle(queue, jobs_final)
    assert stop(worker) == 0
    log = (tmp_path / "worker-0.log").read_text()
    assert f"import of eml into solution {solution.id}: Ring 91****67 eller k***@***.eml:" in log
    assert "912 34 567" not in log
    assert "kari.nordmann" not in log


@postgres_only
def test_a_source_whose_path_names_a_person_is_not_queued(
    queue: Engine, env: dict[str, str], solution: Solution, tmp_path: Path
) -> None:
    source = tmp_path / "kari.nordmann@example.no.mbox"
    source.write_bytes(b"")
    result = enqueue_import(env, "mbox", source)
    assert result.returncode == 2
    assert "k***@***.mbox: the path writes a phone number or an email address" in " ".join(result.stderr.split())
    assert "kari.nordmann" not in result.stderr
    with queue.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar() == 0
