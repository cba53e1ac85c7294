"""The diagnosis commands and the service behind them, as an engineer runs them."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from conftest import REPO_KB
from kbfiles import case_text
from netcase.cli import main
from netcase.diagnose.playbook import InputSpec, Playbook, Step
from netcase.diagnose.service import check_required_inputs
from netcase.diagnose.session import SessionStore
from netcase.errors import ConfigError
from netcase.site import Site, Targets
from netcase.store import make_engine
from servers_throughput import serve_http

WIFI_CASE = "wifi-roaming-ftp-slowdown"


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A case folder holding the Wi-Fi case only."""
    folder = tmp_path / "kb"
    folder.mkdir()
    shutil.copy(REPO_KB / f"{WIFI_CASE}.md", folder)
    return folder


@pytest.fixture
def sessions(netcase_home: Path) -> SessionStore:
    """The session store the commands use, opened in this process."""
    netcase_home.mkdir(parents=True, exist_ok=True)
    return SessionStore(make_engine(f"sqlite:///{netcase_home / 'netcase.db'}"))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# A playbook input that a probe needs as its target.


def test_missing_target_input_refuses_the_diagnosis_before_any_session(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, sessions: SessionStore
) -> None:
    argv = ("diagnose", "--case", WIFI_CASE, "--kb", str(kb_dir), "--yes")
    code, out, err = run_cli(capsys, *argv)

    assert code == 2
    assert out == ""
    assert err.startswith(
        f"netcase: The case {WIFI_CASE!r} needs the input ftp_url (The transfer to test"
    )
    assert err.rstrip().endswith("give it with --set ftp_url=VALUE.")
    assert "Manual step" not in err
    assert sessions.history() == []


URL_PLAYBOOK = Playbook(
    "transfer-case",
    inputs={"url": InputSpec("url", "Transfer URL", "传输地址", kind="url")},
    steps=(Step("transfer", "throughput", {"url": "{url}", "seconds": "5"}),),
)


def test_missing_target_input_is_fine_when_the_site_names_the_target() -> None:
    site = Site(targets=Targets(throughput="http://127.0.0.1:8000/big.bin"))

    check_required_inputs(URL_PLAYBOOK, {"url": None}, site)


def test_missing_target_input_is_refused_without_a_site_target() -> None:
    with pytest.raises(ConfigError, match="needs the input url \\(Transfer URL\\)"):
        check_required_inputs(URL_PLAYBOOK, {"url": None}, Site())


def test_a_missing_name_in_a_names_list_is_refused_even_with_site_names() -> None:
    playbook = Playbook(
        "dns-case",
        inputs={"name": InputSpec("name", "Name", "域名", kind="name")},
        steps=(Step("names", "dns", {"names": ["{name}"]}),),
    )
    site = Site(targets=Targets(dns_names=("www.example.test",)))

    with pytest.raises(ConfigError, match="needs the input name"):
        check_required_inputs(playbook, {"name": None}, site)


def test_a_transfer_that_received_nothing_is_a_failed_step_with_its_reason(
    capsys: pytest.CaptureFixture[str], kb_dir: Path
) -> None:
    code, out, err = run_cli(
        capsys, "diagnose", "--case", WIFI_CASE, "--kb", str(kb_dir),
        "--set", "ftp_url=http://127.0.0.1:1/x", "--set", "seconds=1", "--yes",
        "--json",
    )  # fmt: skip

    steps = {step["id"]: step for step in json.loads(out)["steps"]}
    assert code == 0
    assert steps["transfer"]["status"] == "failed"
    assert "127.0.0.1:1" in steps["transfer"]["error"]
    assert steps["transfer-again"]["status"] == "failed"


# A hand-made session, as the engine would have saved it.

SWITCH_CARD = {
    "id": "switch-user-line",
    "case": WIFI_CASE,
    "kind": "switch_line",
    "summary": "Move 10.0.3.27 to unicom",
    "reason": "telecom: 30% loss",
    "params": {},
    "snippets": {"generic": "Route 10.0.3.27 through unicom."},
    "notice": {},
    "verify": [],
}


def saved_session(
    sessions: SessionStore,
    inputs: dict[str, str] | None = None,
    site: str = "lab",
    **card_changes: object,
) -> int:
    session_id = sessions.start(site, WIFI_CASE, "FTP 速度慢", inputs or {})
    finding = {
        "code": "uplink.loss",
        "severity": "warning",
        "summary": "telecom: 30% loss",
        "data": {"uplink": "telecom"},
    }
    card = {**SWITCH_CARD, **card_changes}
    sessions.finish(session_id, [finding], [], [], [card])
    return session_id


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        (["uplink.best", "dns.consistent"], "session 14: uplink.best, dns.consistent"),
        ([], "session 14: no findings"),
    ],
)
def test_report_shows_a_verification_as_its_session_and_codes(
    capsys: pytest.CaptureFixture[str],
    kb_dir: Path,
    sessions: SessionStore,
    findings: list[str],
    expected: str,
) -> None:
    verification = {"session": 14, "findings": findings}
    session_id = saved_session(sessions, verification=verification)

    code, out, _ = run_cli(capsys, "report", str(session_id), "--kb", str(kb_dir))

    assert code == 0
    assert f"- **Verification:** {expected}\n" in out
    assert "{'session'" not in out


def test_kb_draft_writes_dates_without_yaml_anchors(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, sessions: SessionStore
) -> None:
    session_id = saved_session(sessions)

    code, _, _ = run_cli(capsys, "kb", "draft", str(session_id), "--kb", str(kb_dir))

    today = date.today().isoformat()
    (draft,) = kb_dir.glob(f"incident-*-session-{session_id}.md")
    text = draft.read_text(encoding="utf-8")
    assert code == 0
    assert f"\ncreated: {today}\n" in text
    assert f"\nupdated: {today}\n" in text
    assert "&id" not in text
    assert "*id" not in text


# Marking and verifying an action.


@pytest.mark.parametrize("state", ["applied", "rejected"])
def test_action_mark_prints_one_readable_line(
    capsys: pytest.CaptureFixture[str],
    kb_dir: Path,
    sessions: SessionStore,
    state: str,
) -> None:
    session_id = saved_session(sessions)

    code, out, _ = run_cli(
        capsys,
        "action",
        str(session_id),
        "switch-user-line",
        state,
        "--kb",
        str(kb_dir),
    )

    assert code == 0
    assert out == f"Action switch-user-line of session {session_id} is now {state}.\n"
    row, _ = sessions.load(session_id)
    assert row.actions[0]["status"] == state


def test_action_mark_prints_the_card_as_json_with_the_json_flag(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, sessions: SessionStore
) -> None:
    session_id = saved_session(sessions)

    code, out, _ = run_cli(
        capsys, "action", str(session_id), "switch-user-line", "applied",
        "--kb", str(kb_dir), "--json",
    )  # fmt: skip

    card = json.loads(out)
    assert code == 0
    assert (card["id"], card["status"]) == ("switch-user-line", "applied")


WEAK_LINK = Path(__file__).parent / "samples" / "wifi" / "iw_link_weak.txt"


def applied_wifi_session(sessions: SessionStore, site: str = "default") -> int:
    """A session whose applied card re-runs the Wi-Fi link step from a sample."""
    return saved_session(
        sessions,
        inputs={"wifi_before": str(WEAK_LINK)},
        site=site,
        verify=["link"],
        status="applied",
    )


def test_action_verify_prints_the_new_session_and_its_finding_codes(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, sessions: SessionStore
) -> None:
    session_id = applied_wifi_session(sessions)

    code, out, _ = run_cli(
        capsys, "action", str(session_id), "switch-user-line", "verify",
        "--kb", str(kb_dir), "--yes",
    )  # fmt: skip

    row, _ = sessions.load(session_id)
    verification = row.actions[0]["verification"]
    assert code == 0
    assert verification["findings"] == ["wifi.weak_signal"]
    assert out.startswith(
        f"Action switch-user-line of session {session_id} was verified in "
        f"session {verification['session']}: "
    )
    assert out.endswith("(found: wifi.weak_signal).\n")


def test_verify_cannot_tell_when_the_uplink_of_the_fault_was_not_measured(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, sessions: SessionStore
) -> None:
    session_id = applied_wifi_session(sessions)

    _, out, _ = run_cli(
        capsys, "action", str(session_id), "switch-user-line", "verify",
        "--kb", str(kb_dir), "--yes",
    )  # fmt: skip

    verification = sessions.load(session_id)[0].actions[0]["verification"]
    assert verification["verdict"] == "cannot tell"
    assert verification["unmeasured"] == ["telecom"]
    assert "cleared" not in out
    assert ": cannot tell: telecom was not measured (found: wifi.weak_signal)" in out


def test_verify_refuses_a_session_diagnosed_with_another_site_profile(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, sessions: SessionStore
) -> None:
    session_id = applied_wifi_session(sessions, site="lab")

    code, out, err = run_cli(
        capsys, "action", str(session_id), "switch-user-line", "verify",
        "--kb", str(kb_dir), "--yes",
    )  # fmt: skip

    assert (code, out) == (2, "")
    assert "with the site profile 'lab', but the current one is 'default'" in err
    assert "pass the same --site FILE (or NETCASE_SITE)" in err
    assert "verification" not in sessions.load(session_id)[0].actions[0]
    assert [row.id for row in sessions.history()] == [session_id]


@pytest.mark.parametrize("status", ["proposed", "rejected"])
def test_verify_refuses_an_action_not_marked_applied(
    capsys: pytest.CaptureFixture[str],
    kb_dir: Path,
    sessions: SessionStore,
    status: str,
) -> None:
    session_id = saved_session(sessions, site="default", status=status)

    code, _, err = run_cli(
        capsys, "action", str(session_id), "switch-user-line", "verify",
        "--kb", str(kb_dir), "--yes",
    )  # fmt: skip

    assert code == 2
    assert f"The action 'switch-user-line' is {status}, not applied" in err
    assert f"netcase action {session_id} switch-user-line applied" in err
    assert "verification" not in sessions.load(session_id)[0].actions[0]


def test_verify_refuses_a_card_whose_snippets_hold_a_placeholder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sessions: SessionStore
) -> None:
    folder = tmp_path / "paypal-kb"
    folder.mkdir()
    shutil.copy(REPO_KB / f"{PAYPAL_CASE}.md", folder)
    session_id = sessions.start("default", PAYPAL_CASE, "paypal 打不开", {})
    card = {
        **SWITCH_CARD,
        "case": PAYPAL_CASE,
        "missing": ["user_ip"],
        "status": "applied",
    }
    sessions.finish(session_id, [], [], [], [card])

    code, _, err = run_cli(
        capsys, "action", str(session_id), "switch-user-line", "verify",
        "--kb", str(folder), "--yes",
    )  # fmt: skip

    assert code == 2
    assert "still shows <user_ip> in its snippets" in err
    assert "verification" not in sessions.load(session_id)[0].actions[0]


def test_verification_is_listed_in_its_card_not_in_the_history(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, sessions: SessionStore
) -> None:
    session_id = applied_wifi_session(sessions)
    run_cli(
        capsys, "action", str(session_id), "switch-user-line", "verify",
        "--kb", str(kb_dir), "--yes",
    )  # fmt: skip
    check_id = sessions.load(session_id)[0].actions[0]["verification"]["session"]

    _, history, _ = run_cli(capsys, "history", "--kb", str(kb_dir), "--json")
    _, report, _ = run_cli(capsys, "report", str(check_id), "--kb", str(kb_dir))

    assert [item["session"] for item in json.loads(history)] == [session_id]
    assert report.startswith(
        f"# Verification {check_id} of diagnosis {session_id}: {WIFI_CASE}\n"
    )


# Stopping a diagnosis at a manual step.

DOCKER_SAMPLES = Path(__file__).parent / "samples" / "docker"
STOP_PLAYBOOK = f"""\
diagnose:
  - id: mounts
    probe: localtime_mount
    params: {{inspect_file: "{DOCKER_SAMPLES / "localtime_ro.json"}"}}
  - id: wait
    manual: Wait for the user
    manual_zh: 等待用户
"""
WAIT_S = 60
"""A bound on waiting for the process, so that a hang fails instead of blocking."""


def start_at_manual_step(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """Run a diagnosis whose second step asks a person; return once it asks."""
    folder = tmp_path / "stop-kb"
    folder.mkdir()
    text = case_text("stop-case").replace("created:", STOP_PLAYBOOK + "created:", 1)
    (folder / "stop-case.md").write_text(text, encoding="utf-8")
    home = tmp_path / "stop-home"
    command = [
        sys.executable, "-m", "netcase", "diagnose", "--case", "stop-case",
        "--kb", str(folder),
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, NETCASE_HOME=str(home)),
    )
    assert process.stderr is not None
    seen = b""
    while b"Manual step wait" not in seen:
        line = process.stderr.readline()
        assert line, f"no manual prompt; stderr so far: {seen!r}"
        seen += line
    return process, home


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)],
)
def test_a_signal_at_a_manual_prompt_ends_the_diagnosis_at_once_keeping_its_steps(
    tmp_path: Path, signum: int, code: int
) -> None:
    process, home = start_at_manual_step(tmp_path)

    process.send_signal(signum)
    try:
        # stdin stays open: the process must not wait for the line it asked for.
        returned = process.wait(WAIT_S)
    finally:
        process.kill()
        assert process.stdin is not None and process.stderr is not None
        process.stdin.close()
    err = process.stderr.read().decode()
    process.stderr.close()
    assert process.stdout is not None
    process.stdout.close()

    store = SessionStore(make_engine(f"sqlite:///{home / 'netcase.db'}"))
    row = store.history(1)[0]
    assert returned == code
    assert row.status == "interrupted"
    assert [step.step_id for step in store.load(row.id or 0)[1]] == ["mounts"]
    assert f"session {row.id} is kept as interrupted" in err


# The verdict of a verification.

DOCKER_CASE = "docker-tzdata-localtime-mount"


def diagnose_docker_mount(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> tuple[Path, Path, int]:
    """Diagnose the tzdata case from a copy of an inspect output with the mount."""
    folder = tmp_path / "docker-kb"
    folder.mkdir()
    shutil.copy(REPO_KB / f"{DOCKER_CASE}.md", folder)
    inspect = tmp_path / "inspect.json"
    shutil.copy(DOCKER_SAMPLES / "localtime_ro.json", inspect)
    code, out, _ = run_cli(
        capsys, "diagnose", "--case", DOCKER_CASE, "--kb", str(folder),
        "--set", f"inspect_file={inspect}", "--json",
    )  # fmt: skip
    diagnosis = json.loads(out)
    assert code == 0
    assert [a["id"] for a in diagnosis["actions"]] == ["copy-localtime"]
    return folder, inspect, diagnosis["session"]


def verify_copy(
    capsys: pytest.CaptureFixture[str], folder: Path, session_id: int
) -> str:
    for state in ("applied", "verify"):
        code, out, _ = run_cli(
            capsys, "action", str(session_id), "copy-localtime", state,
            "--kb", str(folder), "--yes",
        )  # fmt: skip
        assert code == 0
    return out


def test_verify_says_not_yet_while_the_finding_behind_the_action_is_still_seen(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sessions: SessionStore
) -> None:
    folder, _inspect, session_id = diagnose_docker_mount(capsys, tmp_path)

    out = verify_copy(capsys, folder, session_id)

    verification = sessions.load(session_id)[0].actions[0]["verification"]
    assert verification["verdict"] == "not yet"
    assert verification["still_seen"] == ["container.localtime_bind_mount"]
    assert out == (
        f"Action copy-localtime of session {session_id} was verified in session "
        f"{verification['session']}: not yet: container.localtime_bind_mount still "
        "seen (found: container.localtime_bind_mount).\n"
    )
    _, report, _ = run_cli(capsys, "report", str(session_id), "--kb", str(folder))
    assert "not yet: container.localtime_bind_mount still seen" in report


def test_verify_says_cleared_once_the_finding_behind_the_action_is_gone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sessions: SessionStore
) -> None:
    folder, inspect, session_id = diagnose_docker_mount(capsys, tmp_path)
    shutil.copy(DOCKER_SAMPLES / "no_mount.json", inspect)

    out = verify_copy(capsys, folder, session_id)

    verification = sessions.load(session_id)[0].actions[0]["verification"]
    assert (verification["verdict"], verification["still_seen"]) == ("cleared", [])
    assert out.endswith(
        f"{verification['session']}: cleared "
        "(found: container.localtime_not_mounted).\n"
    )


# Marking a card that still has a placeholder.

PAYPAL_CASE = "paypal-telecom-uplink"


def test_marking_applied_is_refused_while_the_card_lacks_an_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sessions: SessionStore
) -> None:
    folder = tmp_path / "paypal-kb"
    folder.mkdir()
    shutil.copy(REPO_KB / f"{PAYPAL_CASE}.md", folder)
    session_id = sessions.start("lab", None, "paypal 打不开", {})
    card = {**SWITCH_CARD, "case": PAYPAL_CASE, "missing": ["user_ip"]}
    sessions.finish(session_id, [], [], [], [card])

    code, out, err = run_cli(
        capsys, "action", str(session_id), "switch-user-line", "applied",
        "--kb", str(folder),
    )  # fmt: skip

    assert (code, out) == (2, "")
    assert err == (
        "netcase: The action 'switch-user-line' still shows <user_ip> in its "
        "snippets: give the input user_ip (The user's IP address, whose exit line "
        f"may be switched) with --case {PAYPAL_CASE} --set user_ip=VALUE, or in "
        f"the form of the case {PAYPAL_CASE}, and run the diagnosis again; then "
        "mark the new action applied.\n"
    )
    assert sessions.load(session_id)[0].actions[0].get("status") is None


def test_history_names_no_ruled_out_case_as_the_top_cause(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, sessions: SessionStore
) -> None:
    session_id = sessions.start("lab", WIFI_CASE, "FTP 速度慢", {})
    causes = [{"case": WIFI_CASE, "score": 1.0, "ruled_out": True}]
    sessions.finish(session_id, [], causes, [], [])

    _, listed, _ = run_cli(capsys, "history", "--kb", str(kb_dir))
    _, as_json, _ = run_cli(capsys, "history", "--kb", str(kb_dir), "--json")

    assert listed.rstrip().endswith("top: -")
    assert json.loads(as_json)[0]["top_cause"] is None


def test_closed_stdin_skips_the_reconnect_and_its_retests_and_rules_nothing_out(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    kb_dir: Path,
) -> None:
    samples = Path(__file__).parent / "samples" / "wifi"
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with serve_http(rate_bps=8_000_000) as server:
        code, out, err = run_cli(
            capsys, "diagnose", "--case", WIFI_CASE, "--kb", str(kb_dir),
            "--set", f"ftp_url={server.url('/bytes/400000000')}", "--set", "seconds=1",
            "--set", f"wifi_before={samples / 'iw_link_weak.txt'}",
            "--set", f"wifi_after={samples / 'iw_link.txt'}", "--json",
        )  # fmt: skip

    diagnosis = json.loads(out)
    statuses = {step["id"]: step["status"] for step in diagnosis["steps"]}
    assert code == 0 and "(no input: skipped)" in err
    assert statuses == {
        "link": "done",
        "transfer": "done",
        "reconnect": "skipped",
        "link-again": "skipped",
        "transfer-again": "skipped",
    }
    again = next(s for s in diagnosis["steps"] if s["id"] == "transfer-again")
    assert again["error"] == (
        "not run: the manual step reconnect it re-tests after was skipped"
    )
    assert "throughput.unchanged" not in {f["code"] for f in diagnosis["findings"]}
    assert diagnosis["ruled_out"] == []


def test_diagnosis_text_shows_each_cards_scope_risk_rollback_and_verify(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "docker-kb"
    folder.mkdir()
    shutil.copy(REPO_KB / f"{DOCKER_CASE}.md", folder)
    inspect = DOCKER_SAMPLES / "localtime_ro.json"

    code, out, _ = run_cli(
        capsys, "diagnose", "--case", DOCKER_CASE, "--kb", str(folder),
        "--set", f"inspect_file={inspect}",
    )  # fmt: skip

    session_id = int(out.split()[1])
    assert code == 0
    assert (
        "    scope: The container test01 only.\n"
        "    risk: Recreating the container drops changes made inside it; commit "
        "or copy them out first.\n"
        "    rollback: Nothing to roll back.\n"
        f"    verify: re-run mounts (netcase action {session_id} copy-localtime "
        "verify, once applied)\n"
    ) in out


def test_note_replaces_or_appends_to_the_notes_and_the_report_shows_them(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, sessions: SessionStore
) -> None:
    session_id = saved_session(sessions)
    kb = ("--kb", str(kb_dir))

    first = run_cli(capsys, "note", str(session_id), "draft", *kb)
    second = run_cli(capsys, "note", str(session_id), "Called the ISP", *kb)
    third = run_cli(capsys, "note", str(session_id), "Ticket 4711", "--append", *kb)
    _, report, _ = run_cli(capsys, "report", str(session_id), *kb)

    assert [code for code, _, _ in (first, second, third)] == [0, 0, 0]
    assert third[1] == f"Session {session_id} has 2 lines of notes.\n"
    assert sessions.load(session_id)[0].notes == "Called the ISP\nTicket 4711"
    assert report.endswith("## Notes\n\n> Called the ISP\n> Ticket 4711\n")


def test_an_empty_note_is_refused_and_keeps_the_notes(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, sessions: SessionStore
) -> None:
    session_id = saved_session(sessions)
    run_cli(capsys, "note", str(session_id), "Called the ISP", "--kb", str(kb_dir))

    code, out, err = run_cli(capsys, "note", str(session_id), "", "--kb", str(kb_dir))

    assert (code, out) == (2, "")
    assert "The note '' is empty" in err and "--clear" in err
    assert sessions.load(session_id)[0].notes == "Called the ISP"


def test_note_clear_removes_the_notes(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, sessions: SessionStore
) -> None:
    session_id = saved_session(sessions)
    run_cli(capsys, "note", str(session_id), "Called the ISP", "--kb", str(kb_dir))

    code, out, _ = run_cli(
        capsys, "note", str(session_id), "--clear", "--kb", str(kb_dir)
    )

    assert (code, out) == (0, f"Session {session_id} has 0 lines of notes.\n")
    assert sessions.load(session_id)[0].notes == ""


def test_a_note_cannot_add_a_heading_to_the_report(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, sessions: SessionStore
) -> None:
    session_id = saved_session(sessions)
    note = "Checked it\n## Actions\n\n- [x] all fixed"
    run_cli(capsys, "note", str(session_id), note, "--kb", str(kb_dir))

    _, report, _ = run_cli(capsys, "report", str(session_id), "--kb", str(kb_dir))

    headings = [line for line in report.splitlines() if line.startswith("#")]
    assert headings.count("## Actions") == 1
    assert report.endswith("> Checked it\n> ## Actions\n>\n> - [x] all fixed\n")


def test_terminal_control_sequences_in_a_note_are_dropped(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, sessions: SessionStore
) -> None:
    session_id = saved_session(sessions)
    run_cli(
        capsys,
        "note",
        str(session_id),
        "red\x1b[31m alert\x07\ttab",
        "--kb",
        str(kb_dir),
    )
    run_cli(
        capsys, "note", str(session_id), "more\r\n", "--append", "--kb", str(kb_dir)
    )

    _, report, _ = run_cli(capsys, "report", str(session_id), "--kb", str(kb_dir))

    assert sessions.load(session_id)[0].notes == "red[31m alert\ttab\nmore\n"
    assert "\x1b" not in report and "\x07" not in report


def test_report_leaves_out_inputs_without_a_value(
    capsys: pytest.CaptureFixture[str], kb_dir: Path, sessions: SessionStore
) -> None:
    session_id = saved_session(
        sessions, inputs={"domain": "www.example.test", "user_ip": None}
    )

    _, report, _ = run_cli(capsys, "report", str(session_id), "--kb", str(kb_dir))

    assert "- **Inputs:** domain=www.example.test\n" in report
    assert "None" not in report


@pytest.mark.parametrize("columns", [80, 100, 200])
def test_history_lines_fit_the_terminal_width(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    kb_dir: Path,
    sessions: SessionStore,
    columns: int,
) -> None:
    session_id = sessions.start(
        "lab", "a-case-id-long-enough-to-need-cutting-down", "", {}
    )
    causes = [{"case": "x" * 60 + "-top-cause", "score": 2.0, "ruled_out": False}]
    sessions.finish(session_id, [], causes, [], [])
    monkeypatch.setenv("COLUMNS", str(columns))

    _, out, _ = run_cli(capsys, "history", "--kb", str(kb_dir))

    (line,) = out.splitlines()
    assert len(line) < columns
    assert line.startswith(f"{session_id:>4}  ")
    assert " top: " in line and "…" in line
