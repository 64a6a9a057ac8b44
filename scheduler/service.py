"""The scheduler process: APScheduler with a persistent job store, exactly one active.

Each copy loops: stand by until it holds the lock (scheduler/lock.py), then run the jobs
(scheduler/jobs.py) until it is stopped or loses the lock. A standby tries every
`scheduler_standby_seconds` (5 s by default), so it takes over well within a minute of the
active copy's death.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.pool import NullPool

from models.db import make_engine
from models.scheduling import JOBS_TABLE
from scheduler import jobs
from scheduler.lock import ActiveLock, lock_for
from services import logs
from services.casework import notifications
from services.messaging import leases
from services.operations import heartbeats
from services.privacy import retention
from services.runtime import Runtime
from services.settings import Settings

log = logging.getLogger(__name__)

# How often the active copy checks that its lock is still its own.
LOCK_CHECK_SECONDS = 2.0


class SchedulerService:
    """Stands by, or runs the jobs while it holds the lock."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.owner = leases.new_owner()
        self.stopping = threading.Event()
        self.active = threading.Event()
        self.lock: ActiveLock = lock_for(rt.db)

    def run(self) -> None:
        """Loop until stop(): stand by, then be active while the lock is ours."""
        log.info("scheduler %s started; standing by for the lock", self.owner)
        while not self.stopping.is_set():
            if self.lock.try_acquire():
                self._standing_by(False)
                try:
                    self._run_active()
                finally:
                    self.lock.release()
                    self.active.clear()
            else:
                self._standing_by(True)
                self.stopping.wait(self.rt.settings.scheduler_standby_seconds)
        self._standing_by(False)
        log.info("scheduler %s stopped", self.owner)

    def _standing_by(self, standing_by: bool) -> None:
        # /metrics counts the standbys by their beats: a force must know it has one.
        try:
            with self.rt.db.session() as session:
                if standing_by:
                    heartbeats.beat_standby(session, self.owner)
                else:
                    heartbeats.stop_standby(session, self.owner)
        except Exception:  # noqa: BLE001 - a missed beat must not stop a standby standing by
            log.exception("scheduler %s: standby heartbeat failed", self.owner)

    def _run_active(self) -> None:
        log.info("scheduler %s is the active scheduler", self.owner)
        self.rt.owner_name = self.owner
        jobs.bind(self.rt)
        scheduler = BackgroundScheduler(
            # An engine of its own, without a pool: the job store disposes its engine when it
            # shuts down, possibly while APScheduler's own thread is still using a connection;
            # a pooled one would then be left to the garbage collector, open.
            jobstores={
                "default": SQLAlchemyJobStore(
                    engine=make_engine(self.rt.settings.database_url, poolclass=NullPool),
                    tablename=JOBS_TABLE,
                )
            },
            executors={"default": ThreadPoolExecutor(4)},
            # After a pause (a restart, a failover) a job runs once, not once per missed turn.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone=dt.UTC,
        )
        now = dt.datetime.now(dt.UTC)
        for name, seconds in jobs.every(self.rt).items():
            scheduler.add_job(
                f"scheduler.jobs:{name}",
                "interval",
                seconds=seconds,
                id=name,
                name=name,
                replace_existing=True,
                next_run_time=now,
            )
        scheduler.start()
        self.active.set()
        try:
            while not self.stopping.wait(LOCK_CHECK_SECONDS):
                if not self.lock.held():
                    log.error("scheduler %s lost its lock; standing by again", self.owner)
                    break
        finally:
            scheduler.shutdown(wait=True)
            jobs.bind(None)

    def stop(self) -> None:
        self.stopping.set()


def main() -> None:
    """Entry point of `python -m scheduler`."""
    settings = Settings.from_env()
    # (APScheduler's every run of every job at INFO, several a second, is quietened there.)
    logs.configure(settings.production)
    # A retention file that cannot be used stops the scheduler here, not at its first purge.
    retention.load(settings.retention_file)
    # So does a Victims' Code file that cannot be used, before any limit is computed with it.
    notifications.load_victims_code(settings.victims_code_file)
    rt = Runtime(settings)
    service = SchedulerService(rt)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: service.stop())
    try:
        service.run()
    finally:
        rt.close()
