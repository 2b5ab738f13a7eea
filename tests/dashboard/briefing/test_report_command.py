"""``python app.py report``: prints the PDF's path; bad arguments and missing tools are one clear line."""

from __future__ import annotations

import pytest

import app
from dashboard.briefing import jobs


@pytest.fixture
def env(fresh_demo, monkeypatch):
    monkeypatch.setenv("GRIDPULSE_VAR_DIR", str(fresh_demo.var_dir))
    return fresh_demo


def test_report_writes_the_last_complete_week_and_prints_its_path(env, capsys):
    assert app.main(["report", "--lang", "en"]) == 0
    out = capsys.readouterr().out.strip()
    # the fixture's data end on Wednesday 2026-11-25: the last week complete then is 2026-W47
    assert out == str(env.reports_dir / "330108" / "2026-W47.en.pdf")
    assert (env.reports_dir / "330108" / "2026-W47.en.pdf").read_bytes()[:5] == b"%PDF-"
    run = jobs.runs(env)[0]
    assert run["status"] == "ok" and run["trigger"] == "cli" and run["path"] == out


@pytest.mark.parametrize("argv, code, message", [
    (["report", "--week", "2025-W53"], 2, "argument --week: 2025 has no ISO week 53"),
    (["report", "--week", "47"], 2, "argument --week: expected an ISO week such as 2026-W47"),
    (["report", "--week", "2026-W47", "--lang", "fr"], 2, "argument --lang: invalid choice"),
    (["report", "--week", "2026-W47", "--scope", "nowhere"], 2, "argument --scope: unknown area 'nowhere'"),
    (["report", "--week", "2030-W01"], 1, "2030-W01 is not over until 2030-01-07 00:00 (Asia/Shanghai); write it "
                                          "as it stands with --partial"),
])
def test_bad_requests_are_one_line_and_write_nothing(env, capsys, argv, code, message):
    assert _exit_code(argv) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not list(env.reports_dir.glob("*/*.pdf"))


def test_without_chromium_the_command_says_what_to_install(env, capsys, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    assert app.main(["report", "--week", "2026-W47"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "apt-get install chromium" in err
    assert jobs.runs(env)[0]["status"] == "failed" and "BriefingUnavailable" in jobs.runs(env)[0]["error"]
    assert not list(env.reports_dir.glob("*/*.pdf"))


def _exit_code(argv: list[str]) -> int:
    """``app.main``'s status, whether it returns it or argparse exits with it."""
    try:
        return app.main(argv)
    except SystemExit as exc:
        return int(exc.code)
