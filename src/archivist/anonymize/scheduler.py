"""The in-process scheduler of ``archivist serve``: each solution's nightly run at its ``nightly_at``.

One cron job per solution, in the solution's own time zone, so the run stays at 02:00 local
across daylight-saving changes. The jobs are re-read from the database every few minutes,
so a new solution or a changed ``nightly_at`` applies without a restart. Several servers may
each run a scheduler: the run's row locks make the second one skip what the first has done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archivist.accounts.models import Solution
from archivist.anonymize.models import NightlyRun
from archivist.anonymize.nightly import ErasureProof, RunTrigger, run_nightly, where
from archivist.archive.mentions import MentionKeyring
from archivist.blobs import BlobStore
from archivist.db import utcnow

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
    ) -> None:
        self.session_factory = session_factory
        self.blobs = blobs
        self.clock = clock
        self.keyring = keyring
        self.proof = proof
        self.scheduler = BackgroundScheduler(
            timezone=ZoneInfo("UTC"),
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(MISFIRE_GRACE.total_seconds()),
            },
        )

    def start(self) -> None:
        self.sync()
        for solution_id, due in self.missed_runs(self.clock()):
            log.info("nightly: the run of solution %s due at %s was missed; running it now", solution_id, due)
            # A one-off job (no trigger: now), in the scheduler's thread like any other run.
            self.scheduler.add_job(
                self.run_solution,
                args=[solution_id],
                id=f"nightly-catch-up:{solution_id}",
                name=f"missed nightly run of solution {solution_id}",
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
        if self.scheduler.running:
            # Do not wait for a run in progress: it is crash-safe, and the next run finishes it.
            self.scheduler.shutdown(wait=False)

    def solution_jobs(self) -> dict[str, Any]:
        return {
            job.id.removeprefix(_JOB_PREFIX): job for job in self.scheduler.get_jobs() if job.id.startswith(_JOB_PREFIX)
        }

    def missed_runs(self, now: datetime) -> list[tuple[str, datetime]]:
        """(solution id, when it was due) for each run due at most ``MISFIRE_GRACE`` before
        ``now`` that has not happened.

        APScheduler catches up a run it missed while it was running (busy, paused) but knows
        nothing of one that fell while no server ran — a restart at 02:30 would otherwise
        leave the requests waiting a whole day more. Later than the grace they wait for the
        next night, as a late run does.
        """
        with self.session_factory() as session:
            schedules = session.execute(select(Solution.id, Solution.nightly_at, Solution.timezone)).all()
            last_runs = dict(
                session.execute(
                    select(NightlyRun.solution_id, func.max(NightlyRun.as_of)).group_by(NightlyRun.solution_id)
                ).all()
            )
        missed = []
        for solution_id, nightly_at, timezone in schedules:
            try:
                trigger = NightlyTrigger(nightly_at, timezone)
            except (ValueError, KeyError):
                continue  # sync() has logged it
            due: datetime | None = trigger.get_next_fire_time(None, now - MISFIRE_GRACE)
            if due is None or due > now:
                continue
            last = last_runs.get(solution_id)
            if last is None or last < due:
                missed.append((solution_id, due))
        return missed

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

    def run_solution(self, solution_id: str) -> None:
        """The job: a thin call of ``run_nightly`` that never lets an exception text reach a log."""
        try:
            run_nightly(
                self.session_factory,
                self.blobs,
                self.clock(),
                keyring=self.keyring,
                solution_id=solution_id,
                trigger=RunTrigger.SCHEDULER,
                proof=self.proof,
            )
        except Exception as exc:  # noqa: BLE001 - APScheduler would log the text, which may quote identifiers
            log.error("nightly run of solution %s failed (%s at %s)", solution_id, type(exc).__name__, where(exc))
