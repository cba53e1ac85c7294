"""Pilot tests of the diagnosis screens: a live playbook run, its cards, history and report.

The Wi-Fi playbook runs in-process against a loopback HTTP server whose rate
rises when the engineer presses Continue in the manual step's dialog, with
saved ``iw`` outputs standing in for the Wi-Fi link before and after.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console
from textual import events
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Markdown, Static

from dnsserver import DnsLab, dns_lab
from kbfiles import copy_repo_kb, write_case
from netcase.config import resolve_paths
from netcase.diagnose.actions import ActionCard, render_action
from netcase.diagnose.engine import Diagnosis
from netcase.diagnose.playbook import Step
from netcase.diagnose.service import DiagnosisService
from netcase.diagnose.session import SessionStore
from netcase.kb.service import KnowledgeBase
from netcase.site import ResolverAddress, Site, Uplink
from netcase.store import SessionRow
from netcase.tui.app import NetcaseApp
from netcase.tui.screens.case import CaseScreen
from netcase.tui.screens.diagnose import DiagnoseScreen
from netcase.tui.screens.history import HistoryScreen
from netcase.tui.screens.manual import ManualStepDialog
from netcase.tui.screens.report import NotesDialog, ReportScreen
from netcase.tui.screens.search import SearchScreen
from netcase.tui.widgets.action_card import ActionCardView
from netcase.tui.widgets.diag_actions import ActionsPanel
from netcase.tui.widgets.diag_steps import StepList
from netcase.tui.widgets.diag_summary import DiagnosisSummary
from netcase.tui.widgets.results import ResultList
from servers_throughput import PayloadServer, serve_http

SAMPLES = Path(__file__).parent / "samples" / "wifi"
WIFI = "wifi-roaming-ftp-slowdown"
SLOW_BPS = 2_000_000
WAIT_S = 60
"""A bound on waiting for an event, so that a broken screen fails, not hangs."""
PAYPAL = "paypal-telecom-uplink"
PAYPAL_NAMES = ("www.paypal.com", "www.paypalobjects.com")
NOT_ROOT = "ICMP from 127.0.0.2 and 127.0.0.3 needs raw sockets (root)"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason=NOT_ROOT)

Predicate = Callable[[Message], bool]


class MessageWatch:
    """Sees every message through ``run_test``'s hook; a test awaits the one it expects."""

    def __init__(self) -> None:
        self._expected: list[tuple[Predicate, asyncio.Event]] = []

    def hook(self, message: Message) -> None:
        for predicate, seen in self._expected:
            if not seen.is_set() and predicate(message):
                seen.set()

    def expect(self, predicate: Predicate) -> asyncio.Event:
        """Start watching for a message before the keys that cause it."""
        seen = asyncio.Event()
        self._expected.append((predicate, seen))
        return seen


async def arrived(seen: asyncio.Event) -> None:
    await asyncio.wait_for(seen.wait(), WAIT_S)


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    return copy_repo_kb(tmp_path / "kb")


@pytest.fixture
def server() -> Iterator[PayloadServer]:
    with serve_http(rate_bps=SLOW_BPS) as running:
        yield running


@pytest.fixture
def lab() -> Iterator[DnsLab]:
    with dns_lab(first_host=70) as running:
        yield running
        assert running.errors == []


def make_app(kb_dir: Path, site: Site | None = None) -> NetcaseApp:
    return NetcaseApp(KnowledgeBase(resolve_paths(kb_dir)), site or Site())


def plain(widget: Static) -> str:
    """Return what a Static shows, without styles, at a width that keeps lines whole."""
    console = Console(width=400, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(widget.content)
    console.file.close()
    return console.export_text()


def sessions(app: NetcaseApp) -> SessionStore:
    return SessionStore(app.kb.engine)


async def settle(app: App[None], pilot: Pilot[None]) -> None:
    """Wait for every worker, then for the messages their ends posted."""
    for _ in range(2):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def open_wifi_diagnosis(app: NetcaseApp, pilot: Pilot[None]) -> DiagnoseScreen:
    """Find the Wi-Fi case by its symptom, open it, press d and wait for the form."""
    await settle(app, pilot)
    await pilot.press(*"FTP 速度慢", "enter")
    await settle(app, pilot)
    assert isinstance(app.screen, CaseScreen) and app.screen.case_id == WIFI

    await pilot.press("d")
    await settle(app, pilot)
    assert isinstance(app.screen, DiagnoseScreen)
    return app.screen


def fill_wifi_inputs(
    screen: DiagnoseScreen, server: PayloadServer, seconds: str = "1"
) -> None:
    values = {
        "ftp_url": server.url("/bytes/400000000"),
        "seconds": seconds,
        "wifi_before": str(SAMPLES / "iw_link_weak.txt"),
        "wifi_after": str(SAMPLES / "iw_link_after_roam.txt"),
    }
    for name, value in values.items():
        screen.query_one(f"#input-{name}", Input).value = value


def dialog_shown(app: NetcaseApp) -> Predicate:
    return lambda message: (
        isinstance(message, events.ScreenResume)
        and isinstance(app.screen, ManualStepDialog)
    )


def step_progress(step_id: str) -> Predicate:
    return lambda message: (
        isinstance(message, DiagnoseScreen.StepChanged)
        and message.event.step.id == step_id
        and message.event.kind == "progress"
    )


def newest_session(app: NetcaseApp) -> SessionRow:
    rows = sessions(app).history(1)
    assert rows, "No session was saved."
    return rows[0]


def status_text(screen: DiagnoseScreen) -> str:
    return str(screen.query_one("#diag-status").render())


async def test_wifi_playbook_runs_live_asks_for_the_reconnect_and_proposes_it(
    kb_dir: Path, server: PayloadServer
) -> None:
    watch = MessageWatch()
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24), message_hook=watch.hook) as pilot:
        screen = await open_wifi_diagnosis(app, pilot)
        assert screen.query_one("#diag-symptom", Input).value == "FTP 速度慢"
        fill_wifi_inputs(screen, server)

        asked = watch.expect(dialog_shown(app))
        await pilot.press("ctrl+r")
        await arrived(asked)
        await pilot.pause()
        steps = screen.query_one(StepList)
        assert steps.state_of("link") == "done"
        assert steps.state_of("transfer") == "done"
        assert steps.state_of("reconnect") == "waiting"
        assert steps.state_of("transfer-again") == "pending"
        dialog = app.screen
        assert isinstance(dialog, ManualStepDialog)
        assert dialog.step.text_zh.startswith("请用户在当前位置断开并重新连接 Wi-Fi")

        server.rate_bps = None
        assert await pilot.click("#continue")
        await settle(app, pilot)

        assert app.screen is screen
        assert [row.state for row in steps.rows.values()] == ["done"] * 5
        assert screen.diagnosis is not None
        assert screen.diagnosis.causes[0].case_id == WIFI
        card = screen.query_one(ActionCardView)
        assert card.card.kind == "reconnect_wifi_then_retry"
        assert app.focused is card
        assert card.card.notice["en"] in card.shown_text
        assert card.card.notice["zh"] in card.shown_text
        assert "->" in card.shown_text
        assert "finished" in status_text(screen)

        await pilot.press("a")
        await settle(app, pilot)
        row = newest_session(app)
        assert row.id == screen.diagnosis.session_id and row.status == "finished"
        assert [a["status"] for a in row.actions] == ["applied"]
        assert "[applied]" in card.shown_text

        await pilot.press("v")
        await settle(app, pilot)
        saved = sessions(app).load(row.id or 0)[0].actions[0]["verification"]
        assert card.verification == saved
        assert saved["session"] > (row.id or 0)
        assert f"Verified: session {saved['session']}: cleared (found: " in (
            card.shown_text
        )
        assert saved["verdict"] == "cleared" and saved["still_seen"] == []


async def test_history_lists_the_session_and_opens_its_report(
    kb_dir: Path, server: PayloadServer
) -> None:
    watch = MessageWatch()
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24), message_hook=watch.hook) as pilot:
        screen = await open_wifi_diagnosis(app, pilot)
        fill_wifi_inputs(screen, server)
        asked = watch.expect(dialog_shown(app))
        await pilot.press("ctrl+r")
        await arrived(asked)
        server.rate_bps = None
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("r")
        await settle(app, pilot)
        session_id = newest_session(app).id

        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        await pilot.press("f5")
        await settle(app, pilot)
        assert isinstance(app.screen, HistoryScreen)
        table = app.screen.query_one(DataTable)
        first = [str(cell) for cell in table.get_row_at(0)]
        assert first[0] == str(session_id) and first[2] == "finished"
        assert first[3] == WIFI
        assert first[4] == "1 rejected"

        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ReportScreen)
        source = app.screen.query_one(Markdown).source
        assert source.startswith(f"# Diagnosis {session_id}: {WIFI}")
        assert "reconnect_wifi_then_retry, rejected" in source

        await pilot.press("d")
        await settle(app, pilot)
        drafts = list(kb_dir.glob(f"incident-*-session-{session_id}.md"))
        assert len(drafts) == 1
        assert "throughput.recovered_after_reconnect" in drafts[0].read_text("utf-8")


async def test_escape_during_a_probe_stops_and_the_session_is_interrupted(
    kb_dir: Path, server: PayloadServer
) -> None:
    watch = MessageWatch()
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24), message_hook=watch.hook) as pilot:
        screen = await open_wifi_diagnosis(app, pilot)
        fill_wifi_inputs(screen, server, seconds="60")

        measuring = watch.expect(step_progress("transfer"))
        await pilot.press("ctrl+r")
        await arrived(measuring)
        await pilot.press("escape")
        await settle(app, pilot)

        assert app.screen is screen
        row = newest_session(app)
        assert row.status == "interrupted" and row.finished is not None
        assert [step.step_id for step in sessions(app).load(row.id or 0)[1]] == ["link"]
        steps = screen.query_one(StepList)
        assert steps.state_of("link") == "done"
        assert steps.state_of("transfer") == "stopped"
        assert f"session {row.id} is kept as interrupted" in status_text(screen)
        assert not screen.running


async def test_escape_in_the_manual_dialog_stops_and_keeps_the_measured_steps(
    kb_dir: Path, server: PayloadServer
) -> None:
    watch = MessageWatch()
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24), message_hook=watch.hook) as pilot:
        screen = await open_wifi_diagnosis(app, pilot)
        fill_wifi_inputs(screen, server)
        asked = watch.expect(dialog_shown(app))
        await pilot.press("ctrl+r")
        await arrived(asked)

        await pilot.press("escape")
        await settle(app, pilot)

        assert app.screen is screen
        row = newest_session(app)
        assert row.status == "interrupted"
        kept = sessions(app).load(row.id or 0)[1]
        assert sorted(step.step_id for step in kept) == ["link", "transfer"]
        assert screen.query_one(StepList).state_of("reconnect") == "stopped"


async def test_bad_input_value_is_named_in_a_notification_and_nothing_runs(
    kb_dir: Path, server: PayloadServer
) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_wifi_diagnosis(app, pilot)
        fill_wifi_inputs(screen, server)
        seconds = screen.query_one("#input-seconds", Input)
        seconds.focus()
        seconds.value = ""
        await pilot.press(*"abc", "ctrl+r")
        await settle(app, pilot)

        errors = [n for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1 and "'abc'" in errors[0].message
        assert seconds.value == "abc" and seconds.has_class("-invalid")
        assert app.focused is seconds
        url = screen.query_one("#input-ftp_url", Input).value
        assert url == server.url("/bytes/400000000")
        assert sessions(app).history(5) == []
        assert not screen.running


async def test_search_screen_diagnoses_the_typed_symptom_with_the_standard_probes(
    kb_dir: Path,
) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press(*"FTP 速度慢", "f6")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DiagnoseScreen) and screen.case_id is None
        assert screen.query_one("#diag-symptom", Input).value == "FTP 速度慢"

        await pilot.press("ctrl+r")
        await settle(app, pilot)

        assert screen.diagnosis is not None
        assert screen.diagnosis.causes[0].case_id == WIFI
        assert newest_session(app).symptom == "FTP 速度慢"


async def test_f4_with_an_empty_query_runs_the_standard_probes_not_the_newest_case(
    kb_dir: Path,
) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.search_screen.query_one(ResultList).highlighted_case_id

        await pilot.press("f4")
        await settle(app, pilot)

        screen = app.screen
        assert isinstance(screen, DiagnoseScreen)
        assert screen.case_id is None and screen.chosen_case is None
        assert screen.query_one("#diag-symptom", Input).value == ""
        assert "Diagnose: standard probes" in plain(screen.query_one("#diag-title"))


async def test_f4_with_a_query_diagnoses_its_best_case_even_right_after_typing(
    kb_dir: Path,
) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)

        # F4 comes before the debounced search ends, while the newest case is
        # still highlighted: it waits for the results of "FTP 速度慢".
        await pilot.press(*"FTP 速度慢", "f4")
        await settle(app, pilot)

        screen = app.screen
        assert isinstance(screen, DiagnoseScreen) and screen.case_id == WIFI
        assert screen.query_one("#diag-symptom", Input).value == "FTP 速度慢"


async def test_a_case_without_steps_says_so_and_offers_the_standard_probes(
    kb_dir: Path,
) -> None:
    write_case(kb_dir, "quokka-lab-case", title="Quokka lab case")
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press(*"quokka", "f4")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DiagnoseScreen)
        assert screen.case_id == "quokka-lab-case"

        assert "has no steps" in status_text(screen)
        assert "ctrl+t" in status_text(screen)
        assert "ctrl+t runs the standard probes" in screen.steps.empty_text
        offer = screen.query_one("#diag-standard", Button)
        assert offer.display and offer.region.height > 0
        assert screen.active_bindings["ctrl+t"].binding.description == (
            "Standard probes"
        )

        assert await pilot.click("#diag-standard")
        await settle(app, pilot)
        assert screen.case_id is None and screen.playbook is not None
        assert not screen.query_one("#diag-standard").display
        assert screen.active_bindings["ctrl+t"].binding.description == "Case playbook"

        await pilot.press("ctrl+t")
        await settle(app, pilot)
        assert screen.case_id == "quokka-lab-case"


def switch_line_card() -> tuple[ActionCard, Site]:
    site = Site(
        name="lab",
        router="linux",
        uplinks=(
            Uplink("telecom", "China Telecom", "10.0.1.2"),
            Uplink("unicom", "China Unicom", "10.0.2.2", "up2"),
        ),
    )
    params = {"user_ip": "10.0.3.27", "to_uplink": "unicom"}
    rendered = render_action("switch_line", params, site)
    card = ActionCard(
        id="switch-user-line",
        kind="switch_line",
        case_id="paypal-telecom-uplink",
        summary="Move the user (10.0.3.27) to the unicom line and tell them",
        summary_zh="把用户（10.0.3.27）切到 unicom 线路，并告知用户",
        reason="telecom: 18% loss, median 310 ms; unicom: 0% loss, median 42 ms",
        params=params,
        snippets=rendered.snippets,
        notice=rendered.notice,
        scope=rendered.scope,
        risk=rendered.risk,
        rollback=rendered.rollback,
        verify=["lines"],
    )
    return card, site


class CardApp(App[None]):
    """One action card on an otherwise empty screen, recording what it asks for."""

    def __init__(self, card: ActionCard, router: str) -> None:
        super().__init__()
        self.card = card
        self.router = router
        self.asked: list[str] = []

    def compose(self) -> ComposeResult:
        yield ActionCardView(self.card, self.router)

    def on_action_card_view_mark_requested(
        self, message: ActionCardView.MarkRequested
    ) -> None:
        self.asked.append(message.status)

    def on_action_card_view_verify_requested(
        self, message: ActionCardView.VerifyRequested
    ) -> None:
        self.asked.append("verify")


async def test_switch_line_card_shows_the_site_flavour_cycles_and_copies() -> None:
    card, site = switch_line_card()
    app = CardApp(card, site.router)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ActionCardView)
        view.focus()
        await pilot.pause()
        assert view.flavour == "linux"
        assert "ip rule add from 10.0.3.27/32 lookup wan_unicom" in view.shown_text
        assert "18% loss" in view.shown_text and "42 ms" in view.shown_text

        await pilot.press("f", "c")
        assert view.flavour == "openwrt"
        assert app.clipboard == card.snippets["openwrt"]
        assert "use_policy='unicom_only'" in view.shown_text
        assert "ip rule add" not in view.shown_text

        await pilot.press("n")
        assert card.notice["en"] in app.clipboard and "China Unicom" in app.clipboard
        assert card.notice["zh"] in app.clipboard

        await pilot.press("v", "a")
        assert app.asked == ["applied"]


async def test_ctrl_t_switches_between_the_case_playbook_and_the_standard_probes(
    kb_dir: Path,
) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_wifi_diagnosis(app, pilot)
        screen.query_one("#diag-symptom", Input).value = "FTP slow after roaming"

        await pilot.press("ctrl+t")
        await settle(app, pilot)
        assert screen.case_id is None and screen.playbook is not None
        assert screen.query(Input).first().value == "FTP slow after roaming"
        assert not screen.query("#input-ftp_url")

        await pilot.press("ctrl+t")
        await settle(app, pilot)
        assert screen.case_id == WIFI
        assert screen.query_one("#input-seconds", Input).value == "10"


def paypal_site(lab: DnsLab, internal_answer: str, external_answer: str) -> Site:
    """Two loopback resolvers answering the PayPal names; two uplinks on loopback."""
    resolvers = []
    for answer in (internal_answer, external_answer):
        zone = {name: {"A": [answer]} for name in PAYPAL_NAMES}
        responder = lab.add(zone=zone)
        resolvers.append(ResolverAddress(responder.host, responder.port))
    return Site(
        name="lab",
        router="linux",
        internal=(resolvers[0],),
        external=(resolvers[1],),
        uplinks=(
            Uplink("telecom", "China Telecom", "127.0.0.2"),
            Uplink("unicom", "China Unicom", "127.0.0.3"),
        ),
    )


async def diagnose_paypal_from_search(
    app: NetcaseApp, pilot: Pilot[None]
) -> DiagnoseScreen:
    """Type the symptom, press F4 on the best case, fill the user's IP and run."""
    await settle(app, pilot)
    await pilot.press(*"paypal 打不开")
    await settle(app, pilot)
    await pilot.press("f4")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, DiagnoseScreen) and screen.case_id == PAYPAL
    screen.query_one("#input-user_ip", Input).value = "10.0.3.27"

    await pilot.press("ctrl+r")
    await settle(app, pilot)
    assert screen.diagnosis is not None
    return screen


@needs_root
async def test_paypal_from_the_search_screen_rules_dns_out_on_agreeing_resolvers(
    kb_dir: Path, lab: DnsLab
) -> None:
    app = make_app(kb_dir, paypal_site(lab, "127.0.0.1", "127.0.0.1"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await diagnose_paypal_from_search(app, pilot)

        assert screen.diagnosis is not None
        assert screen.diagnosis.causes[0].case_id == PAYPAL
        assert newest_session(app).symptom == "paypal 打不开"
        shown = plain(screen.query_one(DiagnosisSummary))
        assert "1. paypal-telecom-uplink  score" in shown
        assert "DNS (a split-horizon answer) is not the cause:" in shown
        assert "uplink.best" in shown
        # Loopback loses no packet, so no line is worth switching.
        assert not screen.query(ActionCardView)


@needs_root
async def test_split_horizon_answers_name_dns_and_rule_the_paypal_line_out(
    kb_dir: Path, lab: DnsLab
) -> None:
    app = make_app(kb_dir, paypal_site(lab, "127.0.0.1", "203.0.113.80"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await diagnose_paypal_from_search(app, pilot)

        assert screen.diagnosis is not None
        top = screen.diagnosis.causes[0]
        assert top.case_id == "split-horizon-dns-cache-offsite" and not top.ruled_out
        shown = plain(screen.query_one(DiagnosisSummary))
        assert "dns.split_horizon" in shown
        assert "1. split-horizon-dns-cache-offsite  score" in shown
        assert "The ISP line (Telecom) towards the site is not the cause:" in shown
        paypal = next(c for c in screen.diagnosis.causes if c.case_id == PAYPAL)
        assert paypal.ruled_out
        kinds = [view.card.kind for view in screen.query(ActionCardView)]
        assert "switch_line" not in kinds


async def test_card_shows_a_verification_that_still_sees_the_fault_as_not_yet() -> None:
    card, site = switch_line_card()
    app = CardApp(card, site.router)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ActionCardView)
        view.verification = {
            "session": 15,
            "findings": ["uplink.best", "uplink.loss"],
            "verdict": "not yet",
            "still_seen": ["uplink.loss"],
        }
        view.redraw()
        await pilot.pause()

        assert (
            "Verified: session 15: not yet: uplink.loss still seen "
            "(found: uplink.best, uplink.loss)" in view.shown_text
        )


async def test_card_shows_a_verification_that_measured_too_little_as_cannot_tell() -> (
    None
):
    card, site = switch_line_card()
    app = CardApp(card, site.router)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ActionCardView)
        view.verification = {
            "session": 16,
            "findings": [],
            "verdict": "cannot tell",
            "still_seen": [],
            "unmeasured": ["unicom"],
        }
        view.redraw()
        await pilot.pause()

        assert (
            "Verified: session 16: cannot tell: unicom was not measured "
            "(found: no findings)" in view.shown_text
        )
        assert "cleared" not in view.shown_text


class PanelApp(App[None]):
    """The action cards of one saved diagnosis, with the real service behind them."""

    def __init__(self, service: DiagnosisService, diagnosis: Diagnosis) -> None:
        super().__init__()
        self.service = service
        self.diagnosis = diagnosis

    def compose(self) -> ComposeResult:
        yield ActionsPanel()

    async def on_mount(self) -> None:
        cards = await self.query_one(ActionsPanel).show(
            self.service, self.diagnosis, always_done
        )
        cards[0].focus()


async def always_done(step: Step) -> bool:
    return True


async def test_a_card_with_a_placeholder_is_not_marked_applied_and_says_why(
    kb_dir: Path,
) -> None:
    kb = KnowledgeBase(resolve_paths(kb_dir))
    kb.open()
    service = DiagnosisService(kb, Site())
    card, _site = switch_line_card()
    card.missing = ["user_ip"]
    session_id = service.sessions.start("lab", None, "", {})
    service.sessions.finish(session_id, [], [], [], [card.to_json()])
    app = PanelApp(service, Diagnosis(session_id, None, actions=[card]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()

        await pilot.press("a")
        await settle(app, pilot)

        (refusal,) = app._notifications
        assert refusal.severity == "warning"
        assert "still shows <user_ip>" in refusal.message
        assert "--case paypal-telecom-uplink --set user_ip=VALUE" in refusal.message
        assert card.status == "proposed"
        saved = service.sessions.load(session_id)[0].actions[0]
        assert saved["status"] == "proposed"


async def test_verifying_a_session_of_another_site_is_refused_as_a_warning(
    kb_dir: Path,
) -> None:
    kb = KnowledgeBase(resolve_paths(kb_dir))
    kb.open()
    service = DiagnosisService(kb, Site())
    card, _site = switch_line_card()
    card.status = "applied"
    session_id = service.sessions.start("lab", None, "", {})
    service.sessions.finish(session_id, [], [], [], [card.to_json()])
    app = PanelApp(service, Diagnosis(session_id, None, actions=[card]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()

        await pilot.press("v")
        await settle(app, pilot)

        (refusal,) = app._notifications
        assert refusal.severity == "warning"
        assert "site profile 'lab', but the current one is 'default'" in (
            refusal.message
        )
        assert "verification" not in service.sessions.load(session_id)[0].actions[0]
        assert [row.id for row in service.sessions.history()] == [session_id]


async def test_report_screen_edits_the_notes_and_shows_them_in_the_report(
    kb_dir: Path,
) -> None:
    watch = MessageWatch()
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24), message_hook=watch.hook) as pilot:
        await settle(app, pilot)
        store = sessions(app)
        session_id = store.start("lab", WIFI, "FTP 速度慢", {})
        store.finish(session_id, [], [], [], [])
        store.set_notes(session_id, "Called the user")
        await app.push_screen(ReportScreen(app.kb, session_id))
        await settle(app, pilot)

        opened = watch.expect(
            lambda message: (
                isinstance(message, events.ScreenResume)
                and isinstance(app.screen, NotesDialog)
            )
        )
        await pilot.press("e")
        await arrived(opened)
        await pilot.press("enter", *"Ticket 4711", "ctrl+s")
        await settle(app, pilot)

        assert isinstance(app.screen, ReportScreen)
        assert store.load(session_id)[0].notes == "Called the user\nTicket 4711"
        source = app.screen.query_one(Markdown).source
        assert source.endswith("## Notes\n\n> Called the user\n> Ticket 4711\n")
