"""The briefing archive: names, atomic replacement, the listing, safe lookups and the run log."""

import json
import os

import pytest

from dashboard.briefing import archive, jobs
from dashboard.briefing.week import IsoWeek
from settings import Settings

W47 = IsoWeek(2026, 47)


def test_paths_name_the_scope_week_and_a_language_other_than_the_default(tmp_path):
    assert archive.report_path(tmp_path, "D-001", W47, "zh", "zh") == tmp_path / "D-001" / "2026-W47.pdf"
    assert archive.report_path(tmp_path, "D-001", W47, "en", "zh") == tmp_path / "D-001" / "2026-W47.en.pdf"
    assert archive.report_path(tmp_path, "D-001", IsoWeek(2027, 1), "zh", "en").name == "2027-W01.zh.pdf"
    # an id that is not a safe file name never leaves the archive folder
    odd = archive.report_path(tmp_path, "../../etc/x y", W47, "zh", "zh")
    assert odd.parent.parent == tmp_path and odd.parent.name == "_.._etc_x_y"
    assert archive.scope_folder("..") == "_" and archive.scope_folder("") == "_"


def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "a" / "2026-W47.pdf"
    archive.write_atomic(path, b"%PDF old")

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        archive.write_atomic(path, b"%PDF new and longer")
    assert path.read_bytes() == b"%PDF old"
    assert sorted(p.name for p in path.parent.iterdir()) == ["2026-W47.pdf"]
    monkeypatch.undo()
    archive.write_atomic(path, b"%PDF new")
    assert path.read_bytes() == b"%PDF new"


def test_listing_reads_the_sidecars_newest_week_first(tmp_path):
    for week, lang, partial in ((W47, "zh", False), (IsoWeek(2026, 48), "zh", True), (W47, "en", False)):
        pdf = archive.report_path(tmp_path, "D-001", week, lang, "zh")
        archive.write_atomic(pdf, b"%PDF-1.7 x")
        archive.write_atomic(pdf.with_suffix(".json"), json.dumps(
            {"scope_id": "D-001", "scope_name": "示例区", "week": str(week), "lang": lang, "partial": partial,
             "pages": 7, "seconds": 12.5}).encode())
    (tmp_path / "D-001" / ".2026-W49.pdf.x.tmp").write_bytes(b"half")  # a crashed write is not listed
    (tmp_path / "D-001" / "notes.pdf").write_bytes(b"%PDF")  # nor anything not named by the archive
    found = archive.list_reports(tmp_path, "zh")
    assert [(str(r.week), r.lang, r.partial) for r in found] == [("2026-W48", "zh", True), ("2026-W47", "en", False),
                                                                   ("2026-W47", "zh", False)]
    assert found[0].scope_name == "示例区" and found[0].pages == 7 and found[0].size == len(b"%PDF-1.7 x")


@pytest.mark.parametrize("folder, name", [("..", "settings.py"), ("D-001", "../../settings.py"), (".", "x.pdf"),
                                          ("D-001", "2026-W47.json"), ("D-001", "2026-W47.pdf/../x"),
                                          ("33 0108", "2026-W47.pdf")])
def test_find_report_serves_archive_names_only(tmp_path, folder, name):
    archive.write_atomic(tmp_path / "D-001" / "2026-W47.pdf", b"%PDF")
    assert archive.find_report(tmp_path, folder, name) is None
    assert archive.find_report(tmp_path, "D-001", "2026-W47.pdf") == tmp_path / "D-001" / "2026-W47.pdf"


def test_runs_fold_into_one_entry_each_and_a_dead_running_one_is_interrupted(tmp_path):
    settings = Settings(var_dir=tmp_path)
    rd = settings.reports_dir
    archive.record_run(rd, {"run": "a", "status": "running", "pid": os.getpid(), "week": "2026-W46"})
    archive.record_run(rd, {"run": "a", "status": "ok", "path": "x.pdf"})
    archive.record_run(rd, {"run": "b", "status": "running", "pid": 2**22 + 12345, "week": "2026-W47"})  # no such pid
    archive.record_run(rd, {"run": "c", "status": "running", "pid": os.getpid(), "week": "2026-W48"})
    (rd / archive.RUNS_FILE).open("a").write("not json\n")
    archive.record_run(rd, {"run": "d", "status": "failed", "error": "BriefingUnavailable: no Chromium"})
    got = {r["run"]: r for r in jobs.runs(settings)}
    assert [r["run"] for r in jobs.runs(settings)] == ["d", "c", "b", "a"]
    assert got["a"]["status"] == "ok" and got["a"]["week"] == "2026-W46" and got["a"]["path"] == "x.pdf"
    assert got["b"]["status"] == "interrupted"
    assert got["c"]["status"] == "running"
    assert got["d"]["error"].startswith("BriefingUnavailable")


def test_the_run_log_is_cut_back_when_it_grows(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "_RUNS_KEPT", 5)
    for i in range(11):
        archive.record_run(tmp_path, {"run": str(i), "status": "ok"})
    kept = [r["run"] for r in archive.read_runs(tmp_path, 100)]
    assert kept == ["10", "9", "8", "7", "6", "5"] or kept == ["10", "9", "8", "7", "6"]
