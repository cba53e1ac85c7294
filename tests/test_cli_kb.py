"""The knowledge-base commands, as a script would run them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kbfiles import case_text, copy_repo_kb, write_case
from netcase.cli import build_parser, main


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    return copy_repo_kb(tmp_path / "kb")


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("FTP 速度慢", "wifi-roaming-ftp-slowdown"),
        ("paypal 打不开", "paypal-telecom-uplink"),
        ("Release file is not valid yet", "docker-apt-clock-skew"),
        ("tzdata localtime", "docker-tzdata-localtime-mount"),
    ],
)
def test_search_json_ranks_the_expected_case_first(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, query: str, expected: str
) -> None:
    hits = run_json(capsys, "search", query, "--json", "--kb", str(kb_dir))

    assert isinstance(hits, list)
    assert hits[0]["id"] == expected
    assert set(hits[0]) == {"id", "title", "title_zh", "score", "tags", "snippet"}
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)


def test_search_tag_and_limit_options(
    capsys: pytest.CaptureFixture[str], kb_dir: Path
) -> None:
    hits = run_json(
        capsys,
        "search",
        "slow",
        "--tag",
        "wifi",
        "--limit",
        "2",
        "--json",
        "--kb",
        str(kb_dir),
    )

    assert isinstance(hits, list)
    assert 1 <= len(hits) <= 2
    assert all("wifi" in hit["tags"] for hit in hits)


def test_search_text_output_names_the_case(
    capsys: pytest.CaptureFixture[str], kb_dir: Path
) -> None:
    assert main(["search", "paypal", "--kb", str(kb_dir)]) == 0

    assert "paypal-telecom-uplink" in capsys.readouterr().out


def test_show_prints_the_case_markdown_and_json(
    capsys: pytest.CaptureFixture[str], kb_dir: Path
) -> None:
    assert main(["show", "paypal-telecom-uplink", "--kb", str(kb_dir)]) == 0
    assert "www.paypalobjects.com" in capsys.readouterr().out

    document = run_json(
        capsys, "show", "paypal-telecom-uplink", "--json", "--kb", str(kb_dir)
    )
    assert isinstance(document, dict)
    assert document["id"] == "paypal-telecom-uplink"
    assert document["path"].endswith("paypal-telecom-uplink.md")


def test_show_unknown_id_exits_1_with_a_message(
    capsys: pytest.CaptureFixture[str], kb_dir: Path
) -> None:
    assert main(["show", "no-such-case", "--kb", str(kb_dir)]) == 1

    assert "No case with the id 'no-such-case'" in capsys.readouterr().err


def test_kb_check_is_clean_on_the_repository_cases(
    capsys: pytest.CaptureFixture[str], kb_dir: Path
) -> None:
    assert main(["kb", "check", str(kb_dir)]) == 0

    assert capsys.readouterr().out == ""


def test_kb_check_prints_one_path_line_message_per_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    write_case(folder, "good-case")
    (folder / "yaml-case.md").write_text(
        case_text("yaml-case").replace("tags: [test, lab]", "tags: [x")
    )
    (folder / "named-case.md").write_text(case_text("other-id"))
    (folder / "missing-case.md").write_text(
        case_text("missing-case").replace("title_zh: 测试用的案例标题\n", "")
    )

    assert main(["kb", "check", str(folder)]) == 1

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert any(
        line.startswith(f"{folder / 'yaml-case.md'}:") and "Broken YAML" in line
        for line in lines
    )
    assert f"{folder / 'named-case.md'}:2: The id 'other-id' differs" in "\n".join(
        lines
    )
    assert (
        f"{folder / 'missing-case.md'}:1: Missing required field 'title_zh'." in lines
    )


def test_kb_check_lists_problems_by_file_and_counts_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    for name in ("c-case", "a-case", "b-case"):
        (folder / f"{name}.md").write_text(case_text("not-" + name))
    write_case(folder, "good-case")

    main(["kb", "check", str(folder)])

    out, err = capsys.readouterr()
    named = [line.split(":")[0] for line in out.splitlines()]
    assert named == [str(folder / f"{n}.md") for n in ("a-case", "b-case", "c-case")]
    assert err == f"1 case read, 3 problems in 3 files of {folder}.\n"


def test_many_skipped_files_are_summed_up_after_the_first_few(
    capsys: pytest.CaptureFixture[str], kb_dir: Path
) -> None:
    for number in range(6):
        (kb_dir / f"broken-{number}.md").write_text("---\nid: [\n---\n")

    assert main(["search", "paypal", "--kb", str(kb_dir)]) == 0

    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[1].strip() for line in err[:3]] == [
        f"skipped {kb_dir / f'broken-{n}.md'}" for n in range(3)
    ]
    assert err[3:] == [
        "netcase: … and 3 more problems (6 files in all); `netcase kb check` "
        "lists them."
    ]


def test_search_still_works_and_warns_when_one_file_is_broken(
    capsys: pytest.CaptureFixture[str], kb_dir: Path
) -> None:
    (kb_dir / "broken-case.md").write_text("---\nid: [\n---\n")

    hits = run_json(capsys, "search", "paypal", "--json", "--kb", str(kb_dir))

    assert isinstance(hits, list) and hits[0]["id"] == "paypal-telecom-uplink"


def test_kb_reindex_reports_the_case_count(
    capsys: pytest.CaptureFixture[str], kb_dir: Path
) -> None:
    assert main(["kb", "reindex", "--kb", str(kb_dir)]) == 0

    count = len(list(kb_dir.glob("*.md")))
    assert f"Reindexed {count} cases" in capsys.readouterr().out


def test_missing_kb_folder_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["search", "x", "--kb", str(tmp_path / "nowhere")]) == 2

    assert "nowhere" in capsys.readouterr().err


def test_netcase_kb_environment_variable_selects_the_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "other"
    folder.mkdir()
    write_case(folder, "only-case", title="Only case here")
    monkeypatch.setenv("NETCASE_KB", str(folder))

    hits = run_json(capsys, "search", "", "--json")

    assert [hit["id"] for hit in hits] == ["only-case"]


def test_python_dash_m_runs_the_cli(kb_dir: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "netcase",
            "search",
            "FTP 速度慢",
            "--json",
            "--kb",
            str(kb_dir),
        ],
        capture_output=True,
        text=True,
        check=True,
    )

    assert json.loads(done.stdout)[0]["id"] == "wifi-roaming-ftp-slowdown"
    assert "Building prefix dict" not in done.stderr


def test_findings_lists_every_code_with_its_meaning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    codes = run_json(capsys, "findings", "--json")

    assert isinstance(codes, dict)
    assert "uplink.best" in codes and codes["dns.split_horizon"]


def test_options_before_the_command_are_kept(
    capsys: pytest.CaptureFixture[str], kb_dir: Path
) -> None:
    hits = run_json(capsys, "--kb", str(kb_dir), "-v", "search", "FTP 速度慢", "--json")

    assert isinstance(hits, list) and hits[0]["id"] == "wifi-roaming-ftp-slowdown"
    args = build_parser().parse_args(["-v", "--kb", str(kb_dir), "search", "x"])
    assert args.verbose is True and args.kb == str(kb_dir)


def test_bare_netcase_opens_the_tui_without_loading_the_command_parsers() -> None:
    code = (
        "import sys, netcase.cli as c\n"
        "c._opens_tui(sys.argv[1:]) or sys.exit(1)\n"
        "assert 'netcase.kb.search' not in sys.modules and 'sqlalchemy' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "--kb", "somewhere", "-v"], check=False
    )

    assert done.returncode == 0


def test_the_tui_module_leaves_the_heavy_libraries_to_its_workers() -> None:
    # The app draws its first screen before SQLAlchemy, Whoosh or jieba load
    # (bench/tui_start.py): they load in the worker that opens the cases.
    code = (
        "import sys, netcase.tui.app\n"
        "heavy = {'sqlalchemy', 'sqlmodel', 'whoosh', 'jieba'} & set(sys.modules)\n"
        "sys.exit(', '.join(sorted(heavy)) or None)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )

    assert (done.returncode, done.stderr) == (0, "")


def test_kb_draft_writes_a_case_that_passes_kb_check(
    capsys: pytest.CaptureFixture[str], kb_dir: Path
) -> None:
    from netcase.config import resolve_paths
    from netcase.diagnose.session import SessionStore
    from netcase.store import make_engine

    store = SessionStore(make_engine(resolve_paths(kb_dir).database_url))
    session_id = store.start("lab", None, "打印机 连不上", {})
    finding = {
        "code": "uplink.loss",
        "severity": "warning",
        "summary": "a: 30% loss",
        "data": {},
    }
    store.finish(session_id, [finding], [], [], [])

    assert main(["kb", "draft", str(session_id), "--kb", str(kb_dir)]) == 0

    written = capsys.readouterr().out
    assert f"session-{session_id}.md" in written
    assert main(["kb", "check", str(kb_dir)]) == 0


def test_kb_draft_refuses_to_write_into_the_cases_shipped_in_the_package(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from netcase.config import resolve_paths
    from netcase.diagnose import report
    from netcase.diagnose.session import SessionStore
    from netcase.store import make_engine

    store = SessionStore(make_engine(resolve_paths(kb_dir).database_url))
    session_id = store.start("lab", None, "打印机 连不上", {})
    store.finish(session_id, [], [], [], [])
    monkeypatch.setattr(report, "SHIPPED_KB", kb_dir)  # As an install outside a clone.
    before = sorted(kb_dir.iterdir())

    code = main(["kb", "draft", str(session_id), "--kb", str(kb_dir)])

    assert code == 2
    assert "--kb DIR or NETCASE_KB" in capsys.readouterr().err
    assert sorted(kb_dir.iterdir()) == before


def test_a_reader_that_stops_early_ends_the_command_quietly(kb_dir: Path) -> None:
    command = [sys.executable, "-m", "netcase", "show", "paypal-telecom-uplink"]
    child = subprocess.Popen(
        [*command, "--kb", str(kb_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # As `| head` does once it has its lines.

    error = child.stderr.read().decode()
    child.wait(timeout=60)

    assert (child.returncode, error) == (141, "")
