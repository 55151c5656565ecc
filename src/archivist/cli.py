"""The ``archivist`` command line (CONTRACT §3)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from fastapi import FastAPI
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts import services as accounts
from archivist.accounts.models import Role, Solution
from archivist.accounts.passwords import generate_password
from archivist.archive.mentions import MentionKeyring
from archivist.archive.models import Interaction
from archivist.config import Settings, get_settings
from archivist.db import make_engine, make_session_factory, utcnow
from archivist.errors import DomainError
from archivist.schema import MigrationRefusedError, upgrade
from archivist.solutions import services as solutions
from archivist.times import RANGE_MESSAGE, in_range

app = typer.Typer(help="Archivist: a contact-centre archive that can forget.", no_args_is_help=True)
solution_app = typer.Typer(help="Manage solutions (tenants).", no_args_is_help=True)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(solution_app, name="solution")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
audit_app = typer.Typer(help="Check the audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
receipt_app = typer.Typer(help="Check erasure receipts.", no_args_is_help=True)
app.add_typer(receipt_app, name="receipt")
erasures_app = typer.Typer(help="The ledger of erasures.", no_args_is_help=True)
app.add_typer(erasures_app, name="erasures")

# The actor of audit entries made from the command line (whoever runs it has the database).
CLI_ACTOR = "cli"

log = logging.getLogger("archivist.serve")
err = Console(stderr=True)


def _factory(settings: Settings) -> sessionmaker[Session]:
    return make_session_factory(make_engine(settings.resolved_database_url))


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(2)


def _solution(session: Session, solution_id: str | None) -> Solution:
    solution = accounts.get_solution(session, solution_id) if solution_id else accounts.default_solution(session)
    if solution is None:
        raise _fail("no such solution (run `archivist init` first, or check --solution)")
    return solution


@app.command()
def init(
    name: Annotated[str, typer.Option(help="Name of the default solution.")] = "Demo contact centre",
    country: Annotated[str, typer.Option(help="ISO 3166 alpha-2 country of the solution.")] = "NO",
    timezone: Annotated[str, typer.Option(help="IANA time zone of the solution.")] = "Europe/Oslo",
) -> None:
    """Create or upgrade the schema and the default solution; prints the solution id."""
    _, solution_id = _init_schema(get_settings(), name, country, timezone)
    typer.echo(solution_id)


def _init_schema(settings: Settings, name: str, country: str, timezone: str) -> tuple[sessionmaker[Session], str]:
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade(engine)
    except MigrationRefusedError as exc:
        raise _fail(f"the schema cannot be upgraded yet: {exc}") from None
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        solution = accounts.default_solution(session)
        if solution is None:
            try:
                solution = accounts.create_solution(
                    session, name=name, country=country, timezone=timezone, is_default=True
                )
            except accounts.AccountError as exc:
                raise _fail(str(exc)) from None
        return factory, solution.id


@app.command()
def quickstart(
    interactions: Annotated[int, typer.Option(help="Demo interactions to add to an empty archive.", min=0)] = 3000,
    host: Annotated[
        str, typer.Option(help="Host `archivist serve` will listen on (for the next steps).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port `archivist serve` will listen on (for the next steps).")] = 8000,
) -> None:
    """Prepare a local archive (what `make run` does): schema, admin, demo data. Idempotent.

    The admin's password and token are printed only when the admin is created; the next steps
    name the address the server will listen on (`make run PORT=...` passes it here).
    """
    settings = get_settings()
    factory, solution_id = _init_schema(settings, "Demo contact centre", "NO", "Europe/Oslo")
    with factory() as session, session.begin():
        admin = accounts.find_user(session, "admin")
        credentials = None
        if admin is None:
            password = generate_password()
            admin = accounts.create_user(
                session, solution_id=solution_id, username="admin", role=Role.ADMIN, password=password
            )
            credentials = (password, accounts.create_token(session, admin, "make run"))
        archived = session.scalar(
            select(func.count()).select_from(Interaction).where(Interaction.solution_id == solution_id)
        )
    if archived == 0 and interactions:
        from archivist.blobs import make_blob_store
        from archivist.demo.load import load_demo

        with factory() as session:
            target = _solution(session, solution_id)
        with Progress(
            TextColumn("demo data"), BarColumn(), TextColumn("{task.completed}/{task.total}"), console=err
        ) as bar:
            task = bar.add_task("demo", total=interactions)
            report = load_demo(
                factory,
                make_blob_store(settings.resolved_blob_url),
                target,
                interactions,
                1,
                utcnow(),
                lambda n: bar.advance(task, n),
                keyring=MentionKeyring.from_settings(settings),
            )
            # A few emails as a mail system delivers them (CONTRACT §15): HTML, attachments, a forward.
            from archivist.demo.mail import load_demo_mail

            mails = load_demo_mail(
                factory,
                make_blob_store(settings.resolved_blob_url),
                target.id,
                target.timezone,
                utcnow(),
                keyring=MentionKeyring.from_settings(settings),
            )
        typer.echo(
            f"Added {report.created} demo interactions with {report.recordings} recordings, "
            f"and {mails} emails as they arrived (MIME, with attachments)."
        )
    else:
        typer.echo(f"Keeping the existing archive ({archived} interactions).")
    # A server listening on every interface is still reached locally at the loopback address.
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"  # noqa: S104 - compared, not bound
    if credentials:
        password, token = credentials
        typer.echo("")
        typer.echo("Created user 'admin' — shown only this once, keep them:")
        typer.echo(f"  password:  {password}")
        typer.echo(f"  API token: {token}")
        typer.echo(f'  try: curl -H "Authorization: Bearer {token}" {base}/api/v1/interactions?limit=5')
    typer.echo("")
    typer.echo(f"Next: once the server is up, open {base}/login and log in as 'admin'.")
    typer.echo("")


@contextmanager
def _action(settings: Settings) -> Iterator[Session]:
    """A session whose transaction commits when the block ends; a domain's refusal exits 2 with its message."""
    with _factory(settings)() as session:
        try:
            with session.begin():
                yield session
        except DomainError as exc:
            raise _fail(str(exc)) from None


@solution_app.command("create")
def solution_create(
    name: Annotated[str, typer.Option(help="Name of the solution.")],
    country: Annotated[str, typer.Option(help="ISO 3166 alpha-2 country.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone.")],
) -> None:
    """Create another solution (tenant); prints its id."""
    with _action(get_settings()) as session:
        solution = accounts.create_solution(session, name=name, country=country, timezone=timezone)
    typer.echo(solution.id)


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="Login name, unique across solutions.")],
    role: Annotated[Role, typer.Option(help="What the user may do.")],
    solution: Annotated[str | None, typer.Option("--solution", help="Solution id (default: the default one).")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Create a user; without --password-stdin a generated password is printed."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else generate_password()
    with _action(get_settings()) as session:
        target = _solution(session, solution)
        solutions.create_user(
            session, target, username=username, role=role, password=password, actor=CLI_ACTOR, via="cli", now=utcnow()
        )
    if not password_stdin:
        typer.echo(f"password: {password}")


@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Argument(help="The user the token acts as.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
) -> None:
    """Create an API bearer token; it is printed once, as the last line."""
    with _action(get_settings()) as session:
        user = accounts.named_user(session, username)
        token = solutions.create_token(session, user.id, label, actor=CLI_ACTOR, via="cli", now=utcnow())
    typer.echo(token)


@token_app.command("list")
def token_list(username: Annotated[str, typer.Argument(help="Whose tokens.")]) -> None:
    """List a user's tokens: id, label, created, last used, revoked (never the token itself)."""
    with _action(get_settings()) as session:
        for token in accounts.list_tokens(session, accounts.named_user(session, username)):
            used = token.last_used_at.isoformat() if token.last_used_at else "never"
            revoked = f"revoked {token.revoked_at.isoformat()}" if token.revoked_at else "active"
            typer.echo(
                f"{token.id}\t{token.label or '-'}\tcreated {token.created_at.isoformat()}\tused {used}\t{revoked}"
            )


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="The token's id (see `token list`).")]) -> None:
    """Revoke a token at once: the next request with it is refused."""
    with _action(get_settings()) as session:
        solutions.revoke_token(session, token_id, actor=CLI_ACTOR, via="cli", now=utcnow())
    typer.echo("revoked")


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument(help="Who.")]) -> None:
    """Disable a user: their sessions end and their API tokens are revoked at once."""
    with _action(get_settings()) as session:
        user = accounts.named_user(session, username)
        solutions.disable_user(session, user.id, actor=CLI_ACTOR, via="cli", now=utcnow())
    typer.echo("disabled")


@user_app.command("rename")
def user_rename(
    old: Annotated[str, typer.Argument(help="The current username, exactly as it is spelled.")],
    new: Annotated[str, typer.Argument(help="The new username (unique whatever its case).")],
) -> None:
    """Rename a user; their password, role, sessions and tokens stay.

    Also works on an archive whose upgrade refused because two usernames differ only in case.
    """
    with _action(get_settings()) as session:
        solutions.rename_user(session, old, new, actor=CLI_ACTOR, via="cli", now=utcnow())
    typer.echo("renamed")


def _read_new_password() -> str:
    """From a prompt (typed twice, not echoed) at a terminal, else the first line of stdin; never argv."""
    if sys.stdin.isatty():
        return str(typer.prompt("New password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\n")


@user_app.command("set-password")
def user_set_password(username: Annotated[str, typer.Argument(help="Whose password (any case).")]) -> None:
    """Set a user's password (prompted, or one line on stdin) and lift their login throttle.

    For an administrator who is locked out: their sessions end, so only the new password logs in.
    """
    settings = get_settings()
    password = _read_new_password()
    with _action(settings) as session:
        user = accounts.named_user(session, username)
        solutions.set_password(
            session,
            user.id,
            password,
            secret=settings.resolved_secret_key,
            actor=CLI_ACTOR,
            via="cli",
            now=utcnow(),
        )
    typer.echo("password set")


@receipt_app.command("verify")
def receipt_verify(
    file: Annotated[Path, typer.Argument(help="The receipt JSON exactly as the receipt endpoint returned it.")],
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key", help="A base64 public key from GET /api/v1/signing-keys (default: this server's)."
        ),
    ] = None,
) -> None:
    """Check a receipt's Ed25519 signature: exit 0 if it is valid, 1 if it was altered or not ours."""
    import json

    from archivist.anonymize.receipts import Signer, verify

    try:
        document = json.loads(file.read_bytes())
    except (OSError, ValueError):
        raise _fail("cannot read the file as JSON") from None
    if public_key is not None:
        keys = {str(document.get("key_id", "")) if isinstance(document, dict) else "": public_key}
    else:
        keys = {k["key_id"]: k["public_key"] for k in Signer.from_settings(get_settings()).published_keys()}
    if not isinstance(document, dict) or not verify(document, keys):
        err.print("receipt NOT valid: altered, or not signed by this key", highlight=False, markup=False)
        raise typer.Exit(1)
    receipt = document["receipt"]
    typer.echo(f"receipt valid: request {receipt.get('request_id')} processed {receipt.get('processed_at')}")


@erasures_app.command("replay")
def erasures_replay(
    solution: Annotated[str | None, typer.Option("--solution", help="Only this solution (default: all).")] = None,
) -> None:
    """Re-apply every erasure in the ledger, after a database backup was restored; prints what it changed.

    On an archive where nothing came back it changes nothing; running it twice is safe.
    """
    from archivist.anonymize.ledger import Ledger
    from archivist.anonymize.replay import replay_solution
    from archivist.blobs import make_blob_store

    settings = get_settings()
    factory = _factory(settings)
    ledger = Ledger.from_settings(settings)
    keyring = MentionKeyring.from_settings(settings)
    blobs = make_blob_store(settings.resolved_blob_url)
    with factory() as session:
        targets = [_solution(session, solution)] if solution else list(session.scalars(select(Solution)))
    for target in targets:
        total = sum(1 for _ in ledger.entries(target.id))
        with Progress(
            TextColumn(target.name), BarColumn(), TextColumn("{task.completed}/{task.total}"), console=err
        ) as bar:
            task = bar.add_task("replay", total=total)
            summary = replay_solution(
                factory, blobs, ledger, target.id, utcnow(), keyring=keyring, progress=partial(bar.advance, task)
            )
        typer.echo(summary.describe())


@audit_app.command("verify")
def audit_verify(
    solution: Annotated[str | None, typer.Option("--solution", help="Only this solution (default: all).")] = None,
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head",
            help="A head hash noted earlier (needs --solution): it must still be in the chain, "
            "which shows that no entry was deleted from the end since.",
        ),
    ] = None,
) -> None:
    """Check each solution's hash chain; exit 1 and name the entry where it breaks."""
    from archivist.audit.events import chain_all, verify_chain

    if expect_head is not None and solution is None:
        raise typer.BadParameter("--expect-head needs --solution: a head belongs to one solution's chain")
    broken = False
    factory = _factory(get_settings())
    chain_all(factory)  # reads' entries still waiting for their place, so that every entry is checked
    with factory() as session:
        if solution is not None:
            _solution(session, solution)
            ids = [solution]
        else:
            ids = list(session.scalars(select(Solution.id).order_by(Solution.created_at)))
        for solution_id in ids:
            report = verify_chain(session, solution_id, expect_head=expect_head)
            if report.ok:
                typer.echo(f"solution {solution_id}: {report.entries} entries, chain intact, head {report.head or '-'}")
            else:
                broken = True
                where = f" at entry #{report.broken_at}" if report.broken_at is not None else ""
                err.print(
                    f"solution {solution_id}: chain broken{where}: {report.problem}", highlight=False, markup=False
                )
    if broken:
        raise typer.Exit(1)


def port_in_use_hint(host: str, port: int) -> str | None:
    """A message saying what to do if ``host:port`` is taken, else None.

    uvicorn only logs "address already in use"; a first-time user needs the way out. (Checked
    just before uvicorn binds: a port taken in between still fails, with uvicorn's message.)
    """
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return None  # let uvicorn report anything else in its own words
            return (
                f"port {port} on {host} is already in use (another Archivist, or another server). Stop it, "
                f"or serve on another port: archivist serve --port {port + 1} (with make: make run PORT={port + 1})"
            )
    return None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="Do not run the nightly job.")] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Worker processes (each with its own database pool).")
    ] = 1,
    graceful_timeout: Annotated[
        int,
        typer.Option(
            "--graceful-timeout", min=1, help="On SIGTERM, seconds a worker waits for requests in flight to finish."
        ),
    ] = 30,
) -> None:
    """Serve the web UI and the API (and the nightly job, unless --no-scheduler)."""
    import uvicorn

    from archivist.web.errors import MAX_HEAD_BYTES

    _configure_logging()
    if no_scheduler:
        # The workers build their app from the environment (served_app), so the choice goes there.
        os.environ["ARCHIVIST_SCHEDULER"] = "false"
    settings = get_settings()
    if (busy := port_in_use_hint(host, port)) is not None:
        raise _fail(busy)
    if workers > 1:
        # Each worker watches this process and stops when it is gone (served_app).
        os.environ[_SUPERVISOR_ENV] = str(os.getpid())
    # uvicorn would trust X-Forwarded-* from 127.0.0.1 by default; here only what the setting names.
    trusted = settings.forwarded_allow_ips
    uvicorn.run(
        "archivist.cli:served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=trusted is not None,
        forwarded_allow_ips=trusted or "",
        timeout_graceful_shutdown=graceful_timeout,
        # A spawned worker imports the whole app before it can answer the supervisor's first
        # health check; on a busy machine that took more than uvicorn's 5 s, and it was killed.
        timeout_worker_healthcheck=30,
        # Room for an over-long address to reach the app and be answered 414 (web/errors.py).
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        # Our own access log masks identifiers in query strings; uvicorn's would not.
        access_log=False,
        log_config=None,
    )


# The supervisor's pid, passed to the workers it spawns.
_SUPERVISOR_ENV = "ARCHIVIST_SUPERVISOR_PID"
# How often a worker checks that its supervisor is still there.
SUPERVISOR_WATCH_S = 1.0


def watch_supervisor(supervisor_pid: int, interval: float = SUPERVISOR_WATCH_S) -> threading.Thread:
    """Stop this worker (SIGTERM to itself: requests in flight finish) once its supervisor is gone.

    A supervisor killed with SIGKILL runs no shutdown code, and its workers would go on serving
    (and scheduling nights) unsupervised — one was seen running 54 minutes later. Its children are
    then re-parented, so a changed parent pid means it is gone.
    """

    def watch() -> None:
        while os.getppid() == supervisor_pid:
            time.sleep(interval)
        log.warning("the server's supervisor process is gone; this worker stops")
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, name="supervisor-watch", daemon=True)
    thread.start()
    return thread


def served_app() -> FastAPI:
    """The app of one `archivist serve` worker, built in that worker from the environment."""
    from archivist.web.app import create_app

    _configure_logging()
    if (supervisor := os.environ.get(_SUPERVISOR_ENV)) and supervisor.isdigit():
        watch_supervisor(int(supervisor))
    settings = get_settings()
    return create_app(settings, scheduler=settings.scheduler, chain_audit=True)


# An --as-of further ahead than this is refused unless --allow-future (CONTRACT §3): a run
# "as of" next year would purge a year of audit entries, requests and sessions for real.
MAX_AS_OF_AHEAD = timedelta(hours=48)
# A time without an offset means each solution's local time: somewhere between these.
_OFFSETS = (timedelta(hours=-14), timedelta(hours=12))


def as_of_problem(moment: datetime, now: datetime, *, allow_future: bool) -> str | None:
    """Why ``--as-of`` may not be ``moment`` at ``now`` (None if it may)."""
    try:
        # A naive time read in every zone a solution could have: the earliest and latest instants.
        instants = (
            [moment] if moment.tzinfo is not None else [moment.replace(tzinfo=UTC) + offset for offset in _OFFSETS]
        )
        if not all(in_range(instant) for instant in instants):
            raise OverflowError
    except OverflowError:
        return f"--as-of {RANGE_MESSAGE}"
    if not allow_future and max(instants) > now + MAX_AS_OF_AHEAD:
        return (
            f"--as-of is more than {int(MAX_AS_OF_AHEAD.total_seconds() // 3600)} hours ahead: a run then would purge "
            "audit entries, requests and sessions that are not due; pass --allow-future for a drill on a copy"
        )
    return None


@app.command()
def nightly(
    solution: Annotated[str | None, typer.Option("--solution", help="Only this solution (default: all).")] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Run as if it were this ISO-8601 time, e.g. 2026-03-10T02:00:00+01:00 "
            "(without an offset: each solution's local time).",
        ),
    ] = None,
    allow_future: Annotated[
        bool,
        typer.Option(
            "--allow-future", help="Allow an --as-of more than 48 hours ahead (a drill on a copy of the archive)."
        ),
    ] = False,
    enqueue: Annotated[
        bool,
        typer.Option(
            "--enqueue",
            help="Queue one job per solution for its current night, for `archivist worker` (PostgreSQL only).",
        ),
    ] = False,
) -> None:
    """Run the nightly job once now (or as of a time) and print a summary; exit 1 if a request failed."""
    from archivist.nightly.lease import run_nightly_cli

    if enqueue:
        from archivist.nightly.queue import enqueue_nights_cli

        if as_of is not None:
            raise _fail("--enqueue queues each solution's current night; --as-of is for a run in this process")
        raise typer.Exit(enqueue_nights_cli(get_settings(), solution_id=solution))
    moment: datetime | None = None
    if as_of is not None:
        # fromisoformat rather than strptime formats: it takes "+01:00", "Z" and a bare date alike.
        try:
            moment = datetime.fromisoformat(as_of.strip())
        except ValueError:
            raise typer.BadParameter("expected an ISO-8601 time such as 2026-03-10T02:00:00+01:00") from None
        if (problem := as_of_problem(moment, utcnow(), allow_future=allow_future)) is not None:
            raise _fail(problem)
    _configure_logging()
    code = run_nightly_cli(get_settings(), solution_id=solution, as_of=moment)
    if code:
        raise typer.Exit(code)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Jobs this process runs at once.")] = 1,
    stalled_after: Annotated[
        float,
        typer.Option(
            "--stalled-after", min=1, help="Seconds without a heartbeat after which a worker's jobs are queued again."
        ),
    ] = 30.0,
) -> None:
    """Run queued jobs (`archivist nightly --enqueue`) until SIGTERM; PostgreSQL only. Run one or more per machine."""
    from archivist.nightly.queue import WorkerOptions, run_worker_cli

    _configure_logging()
    raise typer.Exit(run_worker_cli(get_settings(), WorkerOptions(concurrency, stalled_after)))


@app.command()
def demo(
    interactions: Annotated[int, typer.Option(help="How many interactions to add.", min=1)] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 1,
) -> None:
    """Add synthetic calls (with recordings), chats and emails to the default solution."""
    from archivist.blobs import make_blob_store
    from archivist.demo.load import load_demo

    settings = get_settings()
    factory = _factory(settings)
    with factory() as session:
        target = _solution(session, None)
    blobs = make_blob_store(settings.resolved_blob_url)
    with Progress(TextColumn("demo"), BarColumn(), TextColumn("{task.completed}/{task.total}"), console=err) as bar:
        task = bar.add_task("demo", total=interactions)
        report = load_demo(
            factory,
            blobs,
            target,
            interactions,
            seed,
            utcnow(),
            lambda n: bar.advance(task, n),
            keyring=MentionKeyring.from_settings(settings),
        )
    typer.echo(f"added {report.created} interactions ({report.existing} already there), {report.recordings} recordings")


@app.command("import")
def import_(
    source: Annotated[str, typer.Argument(help="A file or folder, or an fsspec URL such as s3://bucket/prefix.")],
    fmt: Annotated[
        str, typer.Option("--format", help="ndjson, amazon-connect, genesys, csv, eml, mbox or maildir.")
    ] = "ndjson",
    mapping: Annotated[
        str | None, typer.Option("--mapping", help="Mapping file (csv: columns; genesys: queue and user names).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and count; write nothing.")] = False,
    solution: Annotated[str | None, typer.Option("--solution", help="Solution id (default: the default one).")] = None,
    enqueue: Annotated[
        bool,
        typer.Option(
            "--enqueue",
            help="Queue the import for `archivist worker` (PostgreSQL only; the source must be readable "
            "where the workers run, e.g. s3://).",
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="Processes that validate and prepare records while this one writes "
            "(ndjson; default: one per CPU core for files over 4 MB; 0: all in this process).",
        ),
    ] = None,
) -> None:
    """Import interactions (CONTRACT §16); bad records are reported by position and skipped.

    The last line of stdout is the JSON summary. Exit 0: all read; 1: some records bad;
    2: the source cannot be read or the format is unknown.
    """
    import json

    from archivist.anonymize.ledger import Ledger
    from archivist.blobs import make_blob_store
    from archivist.errors import where
    from archivist.importers import ImportFormat, ImportInterrupted, ImportJob, SourceUnreadable, import_source

    try:
        kind = ImportFormat(fmt)
    except ValueError:
        raise _fail(f"unknown format (expected one of {', '.join(f.value for f in ImportFormat)})") from None
    settings = get_settings()
    factory = _factory(settings)
    with factory() as session:
        target = _solution(session, solution)
    if enqueue:
        from archivist.nightly.queue import enqueue_import_cli

        if dry_run:
            raise _fail("--dry-run reads the source here and now; it is not queued")
        raise typer.Exit(enqueue_import_cli(settings, kind.value, source, mapping=mapping, solution_id=target.id))
    # NDJSON advances by bytes of a file of known size; the other readers by records.
    by_bytes = kind is ImportFormat.NDJSON
    columns = (
        (TextColumn("import"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
        if by_bytes
        else (TextColumn("import"), BarColumn(), TextColumn("{task.completed} records"))
    )
    total = Path(source).stat().st_size if by_bytes and Path(source).is_file() else None
    stopped: ImportInterrupted | None = None
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("import", total=total)
        job = ImportJob(
            source=source,
            solution_id=target.id,
            factory=factory,
            blobs=make_blob_store(settings.resolved_blob_url),
            keyring=MentionKeyring.from_settings(settings),
            now=utcnow(),
            dry_run=dry_run,
            mapping=mapping,
            progress=lambda n: bar.advance(task, n),
            workers=workers,
        )
        try:
            summary = import_source(kind, job, Ledger.from_settings(settings))
        except SourceUnreadable as exc:
            raise _fail(f"cannot import: {exc}") from None
        except ImportInterrupted as exc:
            stopped, summary = exc, exc.summary
    for position, reason in summary.bad:
        # One line each, however narrow the terminal: scripts read them line by line.
        err.print(f"{position}: {reason}", highlight=False, markup=False, soft_wrap=True)
    if stopped is not None:
        cause = stopped.__cause__
        interrupted = cause is None or isinstance(cause, KeyboardInterrupt)
        # The type and where, never the text: a database error may quote the row it failed on.
        why = f"{type(cause).__name__} at {where(cause)}" if cause is not None and not interrupted else "interrupted"
        err.print(
            f"import stopped at {stopped.position} ({why}): {summary.created} interactions before it are "
            f"archived, {summary.unchanged + summary.updated} already were; run the same command again for the "
            "rest (it skips what is archived)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        typer.echo(json.dumps(summary.as_json()))
        raise typer.Exit(130 if interrupted else 1)
    typer.echo(
        f"{'would import' if dry_run else 'imported'} {summary.created} interactions, "
        f"{summary.updated + summary.unchanged} already archived ({summary.updated} updated), "
        f"{len(summary.bad)} bad records, {summary.erased_on_import} erased on import"
    )
    typer.echo(json.dumps(summary.as_json()))
    if summary.bad:
        raise typer.Exit(1)


@app.command("reindex-mentions")
def reindex_mentions(
    solution: Annotated[str | None, typer.Option("--solution", help="Only this solution (default: all).")] = None,
    enqueue: Annotated[
        bool,
        typer.Option("--enqueue", help="Queue one job per solution for `archivist worker` (PostgreSQL only)."),
    ] = False,
) -> None:
    """Rebuild the index of identifiers written in chats, emails and variables.

    Needed once for interactions archived before the index existed, and after
    ARCHIVIST_SECRET_KEY changes (the index is keyed with it). Safe to run again.
    """
    from archivist.archive.mentions import reindex_solution

    settings = get_settings()
    if enqueue:
        from archivist.nightly.queue import enqueue_reindex_cli

        raise typer.Exit(enqueue_reindex_cli(settings, solution_id=solution))
    factory = _factory(settings)
    keyring = MentionKeyring.from_settings(settings)
    with factory() as session:
        targets = [_solution(session, solution)] if solution else list(session.scalars(select(Solution)))
        totals = {
            t.id: session.scalar(select(func.count()).select_from(Interaction).where(Interaction.solution_id == t.id))
            or 0
            for t in targets
        }
    for target in targets:
        with Progress(
            TextColumn(target.name), BarColumn(), TextColumn("{task.completed}/{task.total}"), console=err
        ) as bar:
            task = bar.add_task("reindex", total=totals[target.id])
            read = reindex_solution(factory, keyring, target.id, target.country, partial(bar.advance, task))
        typer.echo(f"{target.id}: re-indexed {read} interactions")


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main() -> None:
    app()
