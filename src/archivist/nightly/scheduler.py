"""The in-process scheduler of ``archivist serve``: each solution's nightly run at its ``nightly_at``.

One cron job per solution, in the solution's own time zone, so the run stays at 02:00 local
across daylight-saving changes. The jobs are re-read from the database every few minutes,
so a new solution or a changed ``nightly_at`` applies without a restart. Every worker of
every server runs a scheduler; the nightly lease (``lease.py``) lets one of them start each
night, and a watcher job takes over a night whose runner died.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.archive.mentions import MentionKeyring
from archivist.blobs import BlobStore
from archivist.db import utcnow
from archivist.errors import where
from archivist.nightly.lease import LeasePolicy, run_leased
from archivist.nightly.models import NightlyLease, NightlyRun
from archivist.nightly.summary import ErasureProof, RunTrigger

log = logging.getLogger(__name__)

RESYNC_EVERY = timedelta(minutes=5)
# A run that could not start on time (the process was busy or paused) still starts if it is
# at most this late; later than that it waits for the next night rather than run by day.
MISFIRE_GRACE = timedelta(hours=1)
_JOB_PREFIX = "nightly:"


class NightlyTrigger(CronTrigger):  # type: ignore[misc]  # APScheduler ships no type hints
    """Daily at a local time, at most once per local calendar day.

    CronTrigger fires twice on the night clocks fall back when the time is in the repeated
    hour (02:00 CEST and again 02:00 CET); one run a night is what users expect. On the
    night clocks spring forward past the time, CronTrigger fires at the first valid instant.
    """

    def __init__(self, nightly_at: str, timezone: str) -> None:
        hour, minute = (int(part) for part in nightly_at.split(":"))
        super().__init__(hour=hour, minute=minute, timezone=ZoneInfo(timezone))
        self.nightly_at = nightly_at
        self.zone_name = timezone

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        if previous_fire_time is None:
            fire: datetime | None = super().get_next_fire_time(None, now)
            return fire
        # Ask from the start of the local day after the previous run. Asking from the previous
        # run itself is not enough: in a repeated hour CronTrigger answers with the same time again.
        zone = ZoneInfo(self.zone_name)
        next_day = datetime.combine(
            previous_fire_time.astimezone(zone).date() + timedelta(days=1), time(0), tzinfo=zone
        )
        return super().get_next_fire_time(None, max(now, next_day))  # type: ignore[no-any-return]

    def latest_due(self, now: datetime) -> datetime | None:
        """The last time the run was due at or before ``now`` (None if never in the last two days)."""
        due: datetime | None = self.get_next_fire_time(None, now - timedelta(days=2))
        if due is None or due > now:
            return None
        while (following := self.get_next_fire_time(due, due)) is not None and following <= now:
            due = following
        return due

    def night_of(self, due: datetime) -> date:
        """The night a due time belongs to: its local calendar date (what the lease records)."""
        return due.astimezone(ZoneInfo(self.zone_name)).date()


class NightlyScheduler:
    """Keeps one job per solution in an APScheduler background scheduler."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        blobs: BlobStore,
        clock: Callable[[], datetime] = utcnow,
        *,
        keyring: MentionKeyring,
        proof: ErasureProof | None = None,
        policy: LeasePolicy | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.blobs = blobs
        self.clock = clock
        self.keyring = keyring
        self.proof = proof
        self.policy = policy or LeasePolicy()
        # Set on shutdown: a run in progress stops between requests and gives its lease up.
        self.stop = threading.Event()
        self.scheduler = BackgroundScheduler(
            timezone=ZoneInfo("UTC"),
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(MISFIRE_GRACE.total_seconds()),
            },
        )

    @property
    def watch_every(self) -> timedelta:
        """How often the watcher looks for a missed night or a dead runner's lease."""
        return max(timedelta(seconds=1), min(RESYNC_EVERY, self.policy.ttl / 2))

    def start(self) -> None:
        self.sync()
        # Now (a one-off job: no trigger), and then every watch_every: a night missed while no
        # server ran, or one whose runner died (its lease expired), starts here.
        self.scheduler.add_job(self.catch_up, id="nightly-catch-up", name="missed nightly runs")
        self.scheduler.add_job(
            self.catch_up,
            IntervalTrigger(seconds=int(self.watch_every.total_seconds())),
            id="nightly-watch",
            name="missed nightly runs and dead runners",
            replace_existing=True,
        )
        self.scheduler.add_job(
            self.sync,
            IntervalTrigger(seconds=int(RESYNC_EVERY.total_seconds())),
            id="nightly-sync",
            replace_existing=True,
        )
        self.scheduler.start()
        log.info("nightly scheduler started with %d solution(s)", len(self.solution_jobs()))

    def shutdown(self) -> None:
        """Stop: a run in progress finishes the request it is on, gives its lease up unfinished
        (another server takes the night over at its next watch) and the scheduler waits for it."""
        self.stop.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def solution_jobs(self) -> dict[str, Any]:
        return {
            job.id.removeprefix(_JOB_PREFIX): job for job in self.scheduler.get_jobs() if job.id.startswith(_JOB_PREFIX)
        }

    def missed_runs(self, now: datetime) -> list[tuple[str, datetime]]:
        """(solution id, when it was due) for each night that should run now and is not running.

        A night that has not started: if it was due at most ``MISFIRE_GRACE`` before ``now``
        and no run has happened since. APScheduler catches up a run it missed while it was
        running (busy, paused) but knows nothing of one that fell while no server ran — a
        restart at 02:30 would otherwise leave the requests waiting a whole day more. Later
        than the grace they wait for the next night, as a late run does.
        A night that started and did not finish, whose lease has expired (its runner died or
        shut down): at any time until the next night, so that another server finishes it.
        """
        with self.session_factory() as session:
            schedules = session.execute(select(Solution.id, Solution.nightly_at, Solution.timezone)).all()
            last_runs = dict(
                session.execute(
                    select(NightlyRun.solution_id, func.max(NightlyRun.as_of)).group_by(NightlyRun.solution_id)
                ).all()
            )
            leases = {lease.solution_id: lease for lease in session.scalars(select(NightlyLease))}
        missed = []
        for solution_id, nightly_at, timezone in schedules:
            try:
                trigger = NightlyTrigger(nightly_at, timezone)
            except (ValueError, KeyError):
                continue  # sync() has logged it
            due = trigger.latest_due(now)
            if due is None:
                continue
            night = trigger.night_of(due).isoformat()
            lease = leases.get(solution_id)
            if lease is not None and lease.night == night:
                if lease.night_finished_at is None and lease.expires_at <= now:
                    missed.append((solution_id, due))  # started, and its runner is gone
                continue
            last = last_runs.get(solution_id)
            if now - due <= MISFIRE_GRACE and (last is None or last < due):
                missed.append((solution_id, due))
        return missed

    def catch_up(self) -> None:
        """The watcher job: run (in this thread) each night ``missed_runs`` finds."""
        try:
            missed = self.missed_runs(self.clock())
        except Exception as exc:  # noqa: BLE001 - try again at the next watch
            log.warning("nightly scheduler: could not look for missed runs (%s)", type(exc).__name__)
            return
        for solution_id, due in missed:
            if self.stop.is_set():
                return
            log.info("nightly: the run of solution %s due at %s has not finished; running it now", solution_id, due)
            self.run_solution(solution_id)

    def sync(self) -> None:
        """Add, change and remove jobs to match the solutions in the database."""
        try:
            with self.session_factory() as session:
                wanted = {
                    sid: (at, tz)
                    for sid, at, tz in session.execute(select(Solution.id, Solution.nightly_at, Solution.timezone))
                }
        except Exception as exc:  # noqa: BLE001 - keep the current jobs; try again at the next sync
            log.warning("nightly scheduler: could not read solutions (%s)", type(exc).__name__)
            return
        current = self.solution_jobs()
        for solution_id, job in current.items():
            if solution_id not in wanted:
                job.remove()
        for solution_id, (nightly_at, timezone) in wanted.items():
            job = current.get(solution_id)
            trigger = job.trigger if job is not None else None
            if isinstance(trigger, NightlyTrigger) and (trigger.nightly_at, trigger.zone_name) == (
                nightly_at,
                timezone,
            ):
                continue
            try:
                new_trigger = NightlyTrigger(nightly_at, timezone)
            except (ValueError, KeyError) as exc:
                log.warning(
                    "nightly scheduler: solution %s has an invalid schedule (%s)", solution_id, type(exc).__name__
                )
                continue
            # Job arguments are the solution id only: nothing personal is ever handed to the scheduler.
            self.scheduler.add_job(
                self.run_solution,
                new_trigger,
                args=[solution_id],
                id=_JOB_PREFIX + solution_id,
                name=f"nightly run of solution {solution_id}",
                replace_existing=True,
            )

    def night_due(self, solution_id: str, now: datetime) -> date:
        """The night a run starting ``now`` belongs to: that of the latest due time, else today's date."""
        with self.session_factory() as session:
            schedule = session.execute(
                select(Solution.nightly_at, Solution.timezone).where(Solution.id == solution_id)
            ).first()
        if schedule is None:
            return now.date()  # run_leased says the solution is gone
        trigger = NightlyTrigger(*schedule)
        due = trigger.latest_due(now)
        return trigger.night_of(due if due is not None else now)

    def run_solution(self, solution_id: str) -> None:
        """The job: a thin call of ``run_leased`` that never lets an exception text reach a log."""
        try:
            now = self.clock()
            night = self.night_due(solution_id, now)
            summary = run_leased(
                self.session_factory,
                self.blobs,
                now,
                keyring=self.keyring,
                solution_id=solution_id,
                trigger=RunTrigger.SCHEDULER,
                proof=self.proof,
                night=night,
                policy=self.policy,
                clock=self.clock,
                stop=self.stop,
            )
            if summary is None:
                log.info("nightly: night %s of solution %s is running elsewhere or done", night, solution_id)
        except Exception as exc:  # noqa: BLE001 - APScheduler would log the text, which may quote identifiers
            log.error("nightly run of solution %s failed (%s at %s)", solution_id, type(exc).__name__, where(exc))
