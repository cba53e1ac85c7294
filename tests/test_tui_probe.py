"""Pilot tests of the probe screen, against loopback DNS responders and ICMP to 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static
from textual.widgets._tabbed_content import ContentTabs
from textual.worker import WorkerState

from dnsserver import DnsLab, Responder, dns_lab
from netcase.config import resolve_paths
from netcase.kb.service import KnowledgeBase
from netcase.probes.findings import Finding, Severity
from netcase.site import ResolverAddress, Site, Targets
from netcase.tui.app import NetcaseApp
from netcase.tui.screens.probe import ProbeScreen
from netcase.tui.screens.search import SearchScreen
from netcase.tui.widgets.probe_findings import FindingsList
from netcase.tui.widgets.probe_sparkline import ZeroSparkline, column_cells
from netcase.tui.widgets.results import ResultList

REPO_KB = Path(__file__).resolve().parent.parent / "kb"
WEAK_LINK = Path(__file__).resolve().parent / "samples" / "wifi" / "iw_link_weak.txt"
PUBLIC = {"www.example.com": {"A": ["203.0.113.10"]}}
INSIDE = {"www.example.com": {"A": ["10.20.0.9"]}}
NOT_ROOT = "raw ICMP sockets need root" if os.geteuid() != 0 else None
needs_root = pytest.mark.skipif(NOT_ROOT is not None, reason=NOT_ROOT or "")


@pytest.fixture
def lab() -> Iterator[DnsLab]:
    with dns_lab(first_host=40) as running:
        yield running
        assert running.errors == []


def address(responder: Responder) -> ResolverAddress:
    return ResolverAddress(responder.host, responder.port)


def make_app(site: Site | None = None) -> NetcaseApp:
    return NetcaseApp(KnowledgeBase(resolve_paths(REPO_KB)), site or Site())


def dns_site(internal: Responder, external: Responder) -> Site:
    """A site whose resolvers are two loopback responders, asking one name."""
    return Site(
        name="lab",
        internal=(address(internal),),
        external=(address(external),),
        targets=Targets(dns_names=("www.example.com",)),
    )


async def settle(app: NetcaseApp, pilot: Pilot[None]) -> None:
    """Wait for every worker, then for the messages their ends posted."""
    for _ in range(2):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def open_probes(app: NetcaseApp, pilot: Pilot[None]) -> ProbeScreen:
    await settle(app, pilot)
    await pilot.press("f3")
    await pilot.pause()
    assert isinstance(app.screen, ProbeScreen)
    return app.screen


async def fill(pilot: Pilot[None], screen: ProbeScreen, key: str, text: str) -> None:
    """Empty one field and type ``text`` into it."""
    field = screen.query_one(f"#{key}", Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)


async def pick(pilot: Pilot[None], screen: ProbeScreen, steps: int) -> None:
    """Move the probe picker ``steps`` tabs to the right."""
    screen.query_one(ContentTabs).focus()
    await pilot.press(*["right"] * steps)


def table_rows(screen: ProbeScreen) -> list[list[str]]:
    table: DataTable[object] = screen.query_one("#probe-results DataTable", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def finding_codes(screen: ProbeScreen) -> list[str]:
    findings = screen.query_one(FindingsList)
    assert findings.display
    return [finding.code for finding in findings.findings]


def progress_recorder(
    screen_of: Callable[[], ProbeScreen | None],
) -> tuple[list[int], Callable[[Message], None]]:
    """Record the DNS table's row count as each progress message arrives."""
    rows_seen: list[int] = []

    def hook(message: Message) -> None:
        screen = screen_of()
        if isinstance(message, ProbeScreen.ProgressReported) and screen is not None:
            rows_seen.append(len(table_rows(screen)))

    return rows_seen, hook


async def test_p_on_the_result_list_and_f3_while_typing_open_the_probes() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)

        await pilot.press("p")
        assert app.search_screen.query_one("#query", Input).value == "p"
        assert isinstance(app.screen, SearchScreen)

        app.search_screen.query_one(ResultList).focus()
        await pilot.press("p")
        assert isinstance(app.screen, ProbeScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, SearchScreen)

        app.search_screen.query_one("#query", Input).focus()
        await pilot.press("f3")
        assert isinstance(app.screen, ProbeScreen)


async def test_dns_rows_appear_as_lookups_end_then_the_findings(lab: DnsLab) -> None:
    inside, outside = lab.add(zone=INSIDE), lab.add(zone=PUBLIC, delay_s=0.1)
    app = make_app(dns_site(inside, outside))
    screen: ProbeScreen | None = None
    rows_seen, hook = progress_recorder(lambda: screen)

    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        screen = await open_probes(app, pilot)
        await fill(pilot, screen, "dns-types", "A")
        await pilot.press("enter")
        await settle(app, pilot)

        rows = table_rows(screen)
        # One row per resolver for the name, and one for the random name.
        assert len(rows) == 4
        assert rows_seen == [0, 1, 2, 3]
        resolvers = {row[0] for row in rows}
        assert resolvers == {f"{inside.address} int", f"{outside.address} ext"}
        answers = {row[0]: row[5] for row in rows if row[1] == "www.example.com"}
        assert answers[f"{inside.address} int"] == "10.20.0.9"
        assert answers[f"{outside.address} ext"] == "203.0.113.10"
        assert "dns.split_horizon" in finding_codes(screen)
        assert "finished" in screen.status
        # At 80x24 the rows and the findings under them are both on screen.
        table = screen.query_one("#probe-results DataTable")
        assert table.region.height >= 3
        assert screen.query_one(FindingsList).region.y > table.region.y


@needs_root
async def test_latency_rows_count_each_uplinks_samples() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_probes(app, pilot)
        await pick(pilot, screen, 1)
        await fill(pilot, screen, "latency-target", "127.0.0.1")
        await fill(pilot, screen, "latency-uplinks", "a=127.0.0.2 b=127.0.0.3")
        await fill(pilot, screen, "latency-count", "4")
        await fill(pilot, screen, "latency-interval", "0.05")
        await pilot.press("enter")
        await settle(app, pilot)

        rows = {row[0]: row for row in table_rows(screen)}
        assert set(rows) == {"a", "b"}
        for name, source in (("a", "127.0.0.2"), ("b", "127.0.0.3")):
            assert rows[name][1:5] == [source, "4", "4", "0%"]
        sparklines = screen.query("#probe-results ZeroSparkline").results(ZeroSparkline)
        assert [len(s.data) for s in sparklines] == [4, 4]
        assert "uplink.best" in finding_codes(screen)


async def test_escape_cancels_a_slow_run_and_the_screen_runs_again(
    lab: DnsLab,
) -> None:
    inside, silent = lab.add(zone=INSIDE), lab.add(mode="silent")
    app = make_app(dns_site(inside, silent))
    inside_done = asyncio.Event()

    def hook(message: Message) -> None:
        if isinstance(message, ProbeScreen.ProgressReported):
            if message.payload.lookup.resolver.address == address(inside):
                inside_done.set()

    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        screen = await open_probes(app, pilot)
        await fill(pilot, screen, "dns-types", "A")
        await fill(pilot, screen, "dns-timeout", "60")
        await pilot.press("enter")
        await asyncio.wait_for(inside_done.wait(), timeout=30)
        worker = next(w for w in app.workers if w.group == "probe")

        await pilot.press("escape")
        await settle(app, pilot)

        assert worker.state == WorkerState.CANCELLED
        assert "cancelled" in screen.status
        assert app.screen is screen
        assert any(row[0] == f"{inside.address} int" for row in table_rows(screen))
        assert not screen.query_one(FindingsList).display

        await fill(pilot, screen, "dns-external", inside.address)
        await pilot.press("enter")
        await settle(app, pilot)
        assert "finished" in screen.status
        assert "dns.consistent" in finding_codes(screen)

        await pilot.press("escape")
        assert isinstance(app.screen, SearchScreen)


async def test_a_bad_resolver_is_named_and_nothing_runs() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_probes(app, pilot)
        ready = screen.status
        await fill(pilot, screen, "dns-names", "www.example.com")
        await fill(pilot, screen, "dns-internal", "999.1.1.1")
        await pilot.press("enter")
        await pilot.pause()

        errors = [n for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1
        assert "'999.1.1.1'" in errors[0].message
        assert not [w for w in app.workers if w.group == "probe"]
        assert screen.status == ready
        assert app.focused is screen.query_one("#dns-internal")


async def test_wifi_from_a_capture_lists_the_link_and_its_weak_signal() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_probes(app, pilot)
        await pick(pilot, screen, 3)
        await fill(pilot, screen, "wifi-from_file", str(WEAK_LINK))
        await pilot.press("enter")
        await settle(app, pilot)

        fields = dict((row[0], row[1]) for row in table_rows(screen))
        assert fields["SSID"] == "会议室-5G"
        assert fields["Signal dBm"] == "-78.0"
        assert finding_codes(screen) == ["wifi.weak_signal"]


class FindingsApp(App[None]):
    """The findings list alone, as wide as the probe screen's."""

    def compose(self) -> ComposeResult:
        yield FindingsList(id="findings")


async def test_a_long_chinese_summary_is_folded_whole_not_cut() -> None:
    summary = "内网解析器返回的地址" * 12 + "结束"
    finding = Finding("dns.mismatch", Severity.WARNING, summary)
    app = FindingsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        findings = app.query_one(FindingsList)
        findings.show([finding])
        await pilot.pause()

        text = findings.query_one("#findings-text", Static)
        lines = [text.render_line(y).text for y in range(text.size.height)]
        assert len(lines) > 1
        assert "…" not in "".join(lines)
        assert summary in "".join("".join(lines).split())


def test_sparkline_bars_start_at_zero_and_mark_a_lost_sample() -> None:
    # A steady 40 Mbit/s with a little jitter stays a row of full bars.
    assert [column_cells(v, 40.0, 1) for v in (40.0, 39.7, None)] == [
        ["█"],
        ["█"],
        ["×"],
    ]
    assert column_cells(20.0, 40.0, 2) == [" ", "█"]
    assert column_cells(0.1, 40.0, 2) == [" ", "▁"]
