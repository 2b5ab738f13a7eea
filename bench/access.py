"""What the sign-in gate costs a request (dashboard/auth/gate.py): a table of milliseconds per request.

Every request but the public ones reads its account (or wall token) from the user store, a SQLite
file, and decodes the signed session cookie. This times the same cheap answer (Dash's
``_dash-dependencies``, no warehouse needed) anonymously refused, as an account and as a wall token,
beside a public endpoint, through Flask's test client in one thread; and the store's lookups alone.

    .venv/bin/python bench/access.py [--requests 500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard.app import create_app  # noqa: E402
from dashboard.auth.users import UserStore  # noqa: E402
from tests.conftest import settings_for, signed_in  # noqa: E402


def _times(call, n: int) -> list[float]:
    for _ in range(20):
        call()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(Path(tmp) / "var")
        app = create_app(settings)
        store = UserStore.of(settings)
        token, record = store.make_token("bench")
        anonymous = app.server.test_client()
        account = signed_in(app, "district")
        wall = app.server.test_client()
        assert wall.get(f"/wall?token={token}").status_code in (200, 302)

        def get(client, path, status):
            def call():
                response = client.get(path)
                assert response.status_code == status, (path, response.status_code)
            return call

        rows = [
            ("public /healthz", get(anonymous, "/healthz", 200)),
            ("anonymous /_dash-dependencies (401)", get(anonymous, "/_dash-dependencies", 401)),
            ("account /_dash-dependencies", get(account, "/_dash-dependencies", 200)),
            ("wall token /_dash-dependencies", get(wall, "/_dash-dependencies", 200)),
            ("store: an account and its session key", lambda: store.session_user("t-district")),
            ("store: an active token", lambda: store.active_token(record.token_id)),
        ]
        print(f"{'request':42s} {'p50 ms':>8s} {'p95 ms':>8s}   ({args.requests} each, one thread)")
        for name, call in rows:
            times = sorted(_times(call, args.requests))
            print(f"{name:42s} {statistics.median(times):8.2f} {times[int(len(times) * 0.95) - 1]:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
