"""Pilot tests of the footers at 80x24: each screen's chosen keys fit beside the palette key."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel

from kbfiles import copy_repo_kb
from netcase.config import resolve_paths
from netcase.diagnose.actions import ActionCard
from netcase.kb.service import KnowledgeBase
from netcase.tui.app import NetcaseApp
from netcase.tui.screens.case import CaseScreen
from netcase.tui.screens.diagnose import DiagnoseScreen
from netcase.tui.screens.history import HistoryScreen
from netcase.tui.screens.probe import ProbeScreen
from netcase.tui.widgets.action_card import ActionCardView
from netcase.tui.widgets.diag_actions import ActionsPanel

WIDTH = 80
SEARCH_KEYS = ["⏎ Open", "f3 Probes", "f4 Diagnose", "f5 History", "^q Quit"]
BROKEN_YAML = "---\nid: broken-yaml\ntitle: [never closed\n---\n"


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    return copy_repo_kb(tmp_path / "kb")


def make_app(kb_dir: Path) -> NetcaseApp:
    return NetcaseApp(KnowledgeBase(resolve_paths(kb_dir)))


async def settle(app: NetcaseApp, pilot: Pilot[None]) -> None:
    """Wait for every worker, then for the footer to recompose after the bindings."""
    for _ in range(2):
        await app.workers.wait_for_complete()
        await pilot.pause()


def footer_keys(screen: Screen[None]) -> list[str]:
    """Return the footer's keys left to right, checking each is drawn whole.

    The command palette key is docked at the right edge; a key that reaches
    under it, or past the screen, is not readable and fails the test.
    """
    keys = list(screen.query_one(Footer).query(FooterKey))
    palette = [key for key in keys if key.has_class("-command-palette")]
    assert len(palette) == 1 and palette[0].region.right == WIDTH
    edge = palette[0].region.x

    shown = [key for key in keys if key not in palette]
    for key in shown:
        assert key.region.width > 0, key.description
        assert key.region.right <= edge, f"{key.description!r} runs under ^p"
    shown.sort(key=lambda key: key.region.x)
    # A key of a group shows no description; the group's label follows it.
    return [f"{key.key_display} {key.description}".strip() for key in shown]


def group_labels(screen: Screen[None]) -> list[str]:
    """Return the labels of the footer's key groups, each checked to be drawn whole."""
    labels = list(screen.query_one(Footer).query(FooterLabel))
    for label in labels:
        assert label.region.width > 0 and label.region.right <= WIDTH
    return [str(label.render()) for label in labels]


def card() -> ActionCard:
    return ActionCard(
        id="reconnect",
        kind="reconnect_wifi_then_retry",
        case_id="wifi-roaming-ftp-slowdown",
        summary="Reconnect Wi-Fi where you stand, then restart the transfer",
        summary_zh="在当前位置重新连接 Wi-Fi，然后重新开始传输",
        reason="50 KB/s before, 2 MB/s after",
        params={},
    )


async def test_search_footer_shows_open_probes_diagnose_history_and_quit(
    kb_dir: Path,
) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(app, pilot)
        assert footer_keys(app.screen) == SEARCH_KEYS

        await pilot.press("tab")
        await settle(app, pilot)
        assert footer_keys(app.screen) == SEARCH_KEYS
        # Hidden keys still work and stay in the palette's list of keys.
        assert "escape" in app.screen.active_bindings


async def test_search_footer_offers_f2_only_when_a_case_file_has_problems(
    kb_dir: Path,
) -> None:
    (kb_dir / "broken-yaml.md").write_text(BROKEN_YAML, encoding="utf-8")
    app = make_app(kb_dir)
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(app, pilot)

        assert footer_keys(app.screen) == ["⏎ Open", "f2 Problems", *SEARCH_KEYS[1:]]


async def test_case_footer_shows_back_diagnose_probes_and_quit(kb_dir: Path) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press(*"FTP 速度慢", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen)

        keys = footer_keys(app.screen)
        assert keys == ["esc Back", "d Diagnose", "f3 Probes", "^q Quit"]


async def test_diagnose_footer_fits_with_the_form_and_with_an_action_card(
    kb_dir: Path,
) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press(*"FTP 速度慢", "f4")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DiagnoseScreen)
        screen_keys = ["^r Run", "esc Back", "^t Standard probes", "^q Quit"]
        assert footer_keys(screen) == screen_keys

        view = ActionCardView(card())
        await screen.query_one(ActionsPanel).mount(view)
        view.focus()
        await settle(app, pilot)
        card_keys = ["c Copy", "n Notice", "f Flavour", "a", "r", "v Verify"]
        assert footer_keys(screen) == [*card_keys, "esc Back", "^q Quit"]
        assert group_labels(screen) == ["Mark"]
        assert "n notice" in view.shown_text and "v verify" in view.shown_text

        # The screen's keys that gave the card their room still work there.
        assert screen.active_bindings["ctrl+r"].binding.action == "run_quietly"
        assert screen.active_bindings["ctrl+t"].binding.action == "switch_quietly"
        await pilot.press("ctrl+t")
        await settle(app, pilot)
        assert screen.case_id is None
        assert footer_keys(screen)[0] == "^r Run"


async def test_probe_footer_shows_run_back_and_quit_but_not_probes(
    kb_dir: Path,
) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("f3")
        await settle(app, pilot)
        assert isinstance(app.screen, ProbeScreen)

        assert footer_keys(app.screen) == ["⏎ Run", "esc Back", "^q Quit"]


async def test_history_footer_shows_back_reload_and_quit(kb_dir: Path) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("f5")
        await settle(app, pilot)
        assert isinstance(app.screen, HistoryScreen)

        assert footer_keys(app.screen) == ["esc Back", "f5 Reload", "^q Quit"]
