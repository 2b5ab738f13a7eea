"""The production web server: gunicorn serving the Dash app in worker processes.

``python app.py serve`` (and so ``make run``) runs this; Flask's development server only with
``--debug``. Gunicorn's arbiter stays in the calling process and forks ``workers`` processes,
each with ``threads`` threads (the ``gthread`` worker: Dash callbacks block on DuckDB, and a
wall's refresh must not wait behind an analyst's export). Every worker builds its own app, and so
its own snapshot reader and DuckDB connections (a connection must never cross a fork), then starts
the wall warm-up; the scheduler is not in any of them: ``app.py serve`` runs it as a process of
its own, the one writer (``docs/serving.md``). Every process writes its Prometheus metrics to
one folder in ``/dev/shm`` (set up by ``app.py serve``); ``child_exit`` tells prometheus_client when a
worker has gone (``dashboard/telemetry.py``).
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from settings import Settings

__all__ = ["GridPulseServer", "gunicorn_options"]

log = logging.getLogger(__name__)


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """Gunicorn's settings for this deployment (bind address, workers, threads, timeouts, logging)."""
    return {
        "bind": f"[{settings.host}]:{settings.port}" if ":" in settings.host else f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": "gthread",
        "threads": settings.threads,
        # a worker silent this long is restarted: requests run in threads, the heartbeat does not wait for them
        "timeout": 60,
        "graceful_timeout": 20,  # Ctrl-C / SIGTERM: running requests get this long to finish
        # an idle connection stays open this long: longer than an analyst's pause between clicks and a wall's
        # 10 s refresh, so a request never meets a connection the server is closing at that moment (with
        # 5 s, 0.1 % of the load test's requests, a page change after a pause, got a reset; docs/performance.md).
        # Idle connections wait in gthread's poller, not in a thread. nginx's default is 75 s as well.
        "keepalive": 75,
        "accesslog": None,  # one line per request (20 walls, dozens of analysts) would drown the log
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "gridpulse",
        "control_socket_disable": True,  # gunicorn 27's control socket would sit in $HOME; nothing here uses it
        "preload_app": False,  # each worker imports and builds its own app: no DuckDB state across fork
        "post_worker_init": _worker_started,
        "worker_exit": _worker_exiting,
        "child_exit": _worker_ended,  # in the arbiter, after a worker has gone: prometheus_client's bookkeeping
    }


class GridPulseServer(BaseApplication):
    """Gunicorn, configured from the settings, serving :func:`dashboard.app.create_app` in each worker."""

    def __init__(self, settings: Settings):
        """Prepare (nothing starts until :meth:`run`)."""
        self.settings = settings
        self.options = gunicorn_options(settings)
        super().__init__()

    def load_config(self) -> None:
        """Gunicorn's config from :func:`gunicorn_options` (never from a gunicorn.conf.py or the command line)."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        """The WSGI app of one worker (called in the worker, after the fork)."""
        from dashboard.app import create_app

        self.dash_app = create_app(self.settings)
        return self.dash_app.server


def _worker_started(worker) -> None:
    """After a worker has loaded the app: compute the default wall before the first wall asks."""
    from dashboard import runtime
    from dashboard.wall import warmup

    app = getattr(worker.app, "dash_app", None)
    if app is not None:
        warmup.start(runtime.of(app))


def _worker_exiting(server, worker) -> None:
    """A worker stops: end its warm-up threads, then close its DuckDB connections (in that order)."""
    from dashboard import runtime
    from dashboard.analyst import warmup as analyst_warmup
    from dashboard.wall import warmup

    warmup.stop()
    analyst_warmup.stop()
    app = getattr(worker.app, "dash_app", None)
    if app is not None:
        runtime.of(app).close()


def _worker_ended(server, worker) -> None:
    """A worker process has ended (in the arbiter): forget its live gauges; its counters stay in the sum."""
    from dashboard import telemetry

    telemetry.process_ended(worker.pid)
