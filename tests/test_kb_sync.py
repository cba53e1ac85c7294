"""Mirroring a case folder into the catalog and the search index."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kbfiles import case_text, copy_repo_kb, write_case
from netcase.config import resolve_paths
from netcase.kb.catalog import check_folder
from netcase.kb.service import KnowledgeBase


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    folder.mkdir()
    write_case(folder, "first-case", title="Printer offline on the third floor")
    write_case(folder, "second-case", title="VPN drops every hour")
    return folder


def open_kb(kb_dir: Path) -> KnowledgeBase:
    kb = KnowledgeBase(resolve_paths(kb_dir))
    kb.open()
    return kb


def test_first_sync_reads_every_file(kb_dir: Path) -> None:
    report = KnowledgeBase(resolve_paths(kb_dir)).open()

    assert sorted(report.read) == ["first-case.md", "second-case.md"]
    assert set(report.active) == {"first-case", "second-case"}


def test_second_sync_reads_only_the_file_whose_content_changed(kb_dir: Path) -> None:
    open_kb(kb_dir)
    (kb_dir / "second-case.md").write_text(
        case_text("second-case", title="VPN drops every 30 minutes"), encoding="utf-8"
    )
    (kb_dir / "first-case.md").touch()

    kb = KnowledgeBase(resolve_paths(kb_dir))
    report = kb.open()

    assert report.read == ["second-case.md"]
    assert kb.get("second-case").title == "VPN drops every 30 minutes"
    assert [hit.id for hit in kb.search("30 minutes")][:1] == ["second-case"]


def test_deleted_file_leaves_catalog_and_index(kb_dir: Path) -> None:
    open_kb(kb_dir)
    (kb_dir / "first-case.md").unlink()

    kb = KnowledgeBase(resolve_paths(kb_dir))
    report = kb.open()

    assert report.removed == ["first-case.md"]
    assert "first-case" not in {hit.id for hit in kb.search("printer offline")}
    assert [hit.id for hit in kb.search("")] == ["second-case"]


def test_broken_file_is_reported_and_the_others_still_load(kb_dir: Path) -> None:
    broken = kb_dir / "broken-case.md"
    broken.write_text(
        case_text("broken-case").replace("tags: [test, lab]", "tags: [oops")
    )

    kb = KnowledgeBase(resolve_paths(kb_dir))
    report = kb.open()

    assert [p.path for p in report.problems] == [broken]
    assert str(report.problems[0]).startswith(f"{broken}:")
    assert {hit.id for hit in kb.search("")} == {"first-case", "second-case"}


def test_unchanged_broken_file_is_still_reported_on_the_next_sync(kb_dir: Path) -> None:
    (kb_dir / "broken-case.md").write_text("no front matter\n")
    open_kb(kb_dir)

    report = KnowledgeBase(resolve_paths(kb_dir)).open()

    assert report.read == []
    assert [p.path.name for p in report.problems] == ["broken-case.md"]


def test_fixing_a_broken_file_makes_it_searchable(kb_dir: Path) -> None:
    (kb_dir / "third-case.md").write_text("no front matter\n")
    open_kb(kb_dir)
    write_case(kb_dir, "third-case", title="Badge reader offline")

    kb = open_kb(kb_dir)

    assert kb.problems == []
    assert kb.search("badge reader")[0].id == "third-case"


def test_id_used_twice_is_reported_and_the_first_file_wins(kb_dir: Path) -> None:
    (kb_dir / "more").mkdir()
    write_case(kb_dir / "more", "first-case", title="A copy of the first case")

    kb = KnowledgeBase(resolve_paths(kb_dir))
    report = kb.open()

    assert [str(p) for p in report.problems] == [
        f"{kb_dir / 'more' / 'first-case.md'}:2: The id 'first-case' is already used by 'first-case.md'."
    ]
    assert kb.get("first-case").title == "Printer offline on the third floor"
    _cases, problems = check_folder(kb_dir)
    assert [str(p) for p in problems] == [str(p) for p in report.problems]


def test_file_that_is_not_utf8_is_reported(kb_dir: Path) -> None:
    (kb_dir / "latin1-case.md").write_bytes(
        b"---\nid: latin1-case\ntitle: caf\xe9\n---\n"
    )

    report = KnowledgeBase(resolve_paths(kb_dir)).open()

    assert report.problems[0].line == 3
    assert "not UTF-8" in report.problems[0].message


def test_readme_in_the_case_folder_is_not_a_case(kb_dir: Path) -> None:
    (kb_dir / "README.md").write_text("# Our cases\n")

    assert KnowledgeBase(resolve_paths(kb_dir)).open().problems == []


def test_unreadable_index_is_rebuilt_with_one_log_line(
    kb_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kb = open_kb(kb_dir)
    for item in kb.index.folder.iterdir():
        if item.suffix in (".toc", ".seg"):
            item.write_bytes(b"garbage")

    with caplog.at_level(logging.INFO, logger="netcase.kb.search"):
        kb = open_kb(kb_dir)

    rebuilt = [r for r in caplog.records if "rebuilding" in r.getMessage()]
    assert len(rebuilt) == 1
    assert kb.search("printer")[0].id == "first-case"


def test_half_written_index_without_its_state_file_is_rebuilt(kb_dir: Path) -> None:
    kb = open_kb(kb_dir)
    (kb.index.folder / "netcase-index.json").unlink()

    kb = open_kb(kb_dir)

    assert {hit.id for hit in kb.search("")} == {"first-case", "second-case"}
    assert kb.search("vpn")[0].id == "second-case"


def test_index_of_an_older_schema_is_rebuilt(kb_dir: Path) -> None:
    kb = open_kb(kb_dir)
    (kb.index.folder / "netcase-index.json").write_text('{"schema": 0, "docs": {}}')

    kb = open_kb(kb_dir)

    assert kb.search("printer")[0].id == "first-case"


def test_reindex_rebuilds_the_index_from_the_catalog(kb_dir: Path) -> None:
    kb = open_kb(kb_dir)
    kb.reindex()

    assert kb.search("vpn")[0].id == "second-case"


def test_repository_cases_are_all_valid(tmp_path: Path) -> None:
    cases, problems = check_folder(copy_repo_kb(tmp_path / "kb"))

    assert problems == []
    assert len(cases) >= 16


def test_catalog_of_an_older_layout_is_rebuilt_and_sessions_are_kept(
    tmp_path: Path, kb_dir: Path
) -> None:
    import sqlite3

    from netcase.diagnose.session import SessionStore
    from netcase.store import make_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    session_id = SessionStore(make_engine(url)).start("lab", None, "slow", {})
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("ALTER TABLE case_file DROP COLUMN mtime_ns")

    store = SessionStore(make_engine(url))

    assert store.load(session_id)[0].symptom == "slow"
    with sqlite3.connect(tmp_path / "old.db") as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(case_file)")}
    assert "mtime_ns" in columns


def test_same_size_edit_with_a_new_time_is_read_again(kb_dir: Path) -> None:
    import os

    open_kb(kb_dir)
    path = kb_dir / "first-case.md"
    text = path.read_text(encoding="utf-8").replace("Printer", "Plotter")
    stat = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))

    kb = KnowledgeBase(resolve_paths(kb_dir))
    report = kb.open()

    assert report.read == ["first-case.md"]
    assert kb.search("plotter")[0].id == "first-case"


def test_broken_link_pipe_and_oversized_file_are_reported_and_the_rest_loads(
    kb_dir: Path,
) -> None:
    import os

    (kb_dir / "gone.md").symlink_to(kb_dir / "nowhere.md")
    (kb_dir / "loop.md").symlink_to(kb_dir / "loop.md")
    os.mkfifo(kb_dir / "pipe.md")
    (kb_dir / "zero.md").symlink_to("/dev/zero")
    (kb_dir / "huge-case.md").write_text(
        case_text("huge-case", body="filler " * 60_000)
    )

    kb = KnowledgeBase(resolve_paths(kb_dir))
    report = kb.open()

    reasons = {p.path.name: p.message for p in report.problems}
    assert set(reasons) == {"gone.md", "loop.md", "pipe.md", "zero.md", "huge-case.md"}
    assert "No such file or directory" in reasons["gone.md"]
    assert (
        "not a regular file" in reasons["pipe.md"]
        and "not a regular file" in reasons["zero.md"]
    )
    assert "over the 256 KB" in reasons["huge-case.md"]
    assert {hit.id for hit in kb.search("")} == {"first-case", "second-case"}
    _cases, problems = check_folder(kb_dir)
    assert {p.path.name for p in problems} == set(reasons)


@pytest.mark.parametrize("damage", ["random", "truncated", "empty"])
def test_damaged_segment_file_is_rebuilt_on_the_next_search(
    kb_dir: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    import os

    kb = open_kb(kb_dir)
    for segment in kb.index_folder.glob("*.seg"):
        data = segment.read_bytes()
        damaged = {
            "random": os.urandom(len(data)),
            "truncated": data[: len(data) // 2],
            "empty": b"",
        }
        segment.write_bytes(damaged[damage])

    kb = KnowledgeBase(resolve_paths(kb_dir))
    with caplog.at_level(logging.WARNING, logger="netcase.kb"):
        kb.open()
        hits = kb.search("printer offline")

    assert hits[0].id == "first-case"
    assert [r for r in caplog.records if "rebuilding" in r.getMessage()]


def test_index_locked_by_another_process_is_searched_as_it_is(
    kb_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from whoosh import index as whoosh_index

    import netcase.kb.search as search_module

    kb = open_kb(kb_dir)
    write_case(kb_dir, "third-case", title="Badge reader offline")
    monkeypatch.setattr(search_module, "WRITER_WAIT_S", 0.2)
    lock = whoosh_index.open_dir(str(kb.index_folder)).lock("WRITELOCK")
    assert lock.acquire()
    try:
        with caplog.at_level(logging.WARNING, logger="netcase.kb.search"):
            kb = open_kb(kb_dir)
    finally:
        lock.release()

    assert any(
        "another netcase is writing it" in r.getMessage() for r in caplog.records
    )
    assert kb.search("printer offline")[0].id == "first-case"
    assert open_kb(kb_dir).search("badge reader")[0].id == "third-case"


def test_several_processes_opening_a_new_data_folder_at_once_all_succeed(
    kb_dir: Path,
) -> None:
    import json
    import subprocess
    import sys

    command = [
        sys.executable,
        "-m",
        "netcase",
        "search",
        "printer",
        "--json",
        "--kb",
        str(kb_dir),
    ]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    outcomes = [process.communicate(timeout=120) for process in processes]

    assert [p.returncode for p in processes] == [0, 0, 0, 0], [
        err.decode()[-300:] for _out, err in outcomes
    ]
    assert all(json.loads(out)[0]["id"] == "first-case" for out, _err in outcomes)


def test_open_searcher_sees_cases_another_process_indexed(kb_dir: Path) -> None:
    reader = open_kb(kb_dir)
    assert reader.search("badge reader") == []

    write_case(kb_dir, "third-case", title="Badge reader offline")
    open_kb(kb_dir)

    assert reader.search("badge reader")[0].id == "third-case"
