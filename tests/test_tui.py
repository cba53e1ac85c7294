"""Pilot tests of the TUI: search as you type, open a case, bad input, layout."""

from __future__ import annotations

import logging
import shutil
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml
from textual import events
from textual.command import CommandList, CommandPalette
from textual.logging import TextualHandler
from textual.pilot import Pilot
from textual.widgets import Input, Markdown, Static

from netcase.config import resolve_paths
from netcase.errors import ConfigError
from netcase.kb.catalog import SyncReport
from netcase.kb.service import KnowledgeBase
from netcase.tui.app import NetcaseApp, route_logging_to_textual
from netcase.tui.screens.case import CaseScreen
from netcase.tui.screens.problems import ProblemsScreen
from netcase.tui.screens.search import SearchScreen
from netcase.tui.widgets.case_view import CaseView
from netcase.tui.widgets.results import ResultList, snippet_text

REPO_KB = Path(__file__).resolve().parent.parent / "kb"
BROKEN_YAML = """---
id: broken-yaml
title: [a list that is never closed
---
## Symptom / 现象
"""


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A copy of the shipped cases that a test may break."""
    folder = tmp_path / "kb"
    shutil.copytree(REPO_KB, folder)
    return folder


def make_app(kb_dir: Path) -> NetcaseApp:
    return NetcaseApp(KnowledgeBase(resolve_paths(kb_dir)))


async def settle(app: NetcaseApp, pilot: Pilot[None]) -> None:
    """Wait for every worker, then for the workers their results started."""
    for _ in range(2):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def type_query(app: NetcaseApp, pilot: Pilot[None], text: str) -> None:
    """Clear the query box, type ``text`` key by key and wait for the results."""
    await pilot.press("escape")
    await pilot.press(*text)
    await settle(app, pilot)


def result_ids(app: NetcaseApp) -> list[str]:
    results = app.search_screen.query_one(ResultList)
    return [str(option.id) for option in results.options]


def updated_dates(kb_dir: Path) -> dict[str, date]:
    """Read each case's ``updated`` date straight from its front matter."""
    dates = {}
    for path in kb_dir.glob("*.md"):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        dates[front["id"]] = front["updated"]
    return dates


async def test_typed_query_ranks_the_right_case_first(kb_dir: Path) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)

        await type_query(app, pilot, "FTP 速度慢")
        assert result_ids(app)[0] == "wifi-roaming-ftp-slowdown"

        await type_query(app, pilot, "paypal 打不开")
        assert result_ids(app)[0] == "paypal-telecom-uplink"


async def test_enter_opens_the_case_and_escape_goes_back(kb_dir: Path) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await type_query(app, pilot, "paypal 打不开")

        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen)
        assert app.screen.case_id == "paypal-telecom-uplink"
        assert "paypalobjects" in app.screen.query_one(Markdown).source

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)


async def test_enter_right_after_typing_opens_the_new_best_case(
    kb_dir: Path,
) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)

        await pilot.press(*"paypal 打不开", "enter")
        await settle(app, pilot)

        assert isinstance(app.screen, CaseScreen)
        assert app.screen.case_id == "paypal-telecom-uplink"


async def test_arrow_keys_move_the_highlight_while_typing(kb_dir: Path) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        results = app.search_screen.query_one(ResultList)

        await pilot.press("down", "down", "up")
        await settle(app, pilot)

        assert isinstance(app.focused, Input)
        assert results.highlighted == 1
        preview = app.search_screen.query_one(CaseView)
        assert preview.case_id == result_ids(app)[1]
        assert f"`{result_ids(app)[1]}`" in preview.markdown.source


async def test_snippet_marks_become_styles_not_asterisks(kb_dir: Path) -> None:
    assert snippet_text("slow **FTP** here").plain == "slow FTP here"

    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await type_query(app, pilot, "FTP 速度慢")

        results = app.search_screen.query_one(ResultList)
        first_option = [results.render_line(y).text for y in range(5)]
        snippet_lines = "".join(first_option[3:])
        assert "FTP" in snippet_lines
        assert "**" not in snippet_lines


async def test_empty_query_lists_every_case_newest_first(kb_dir: Path) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)

        dates = updated_dates(kb_dir)
        shown = result_ids(app)
        assert sorted(shown) == sorted(dates)
        shown_dates = [dates[case_id] for case_id in shown]
        assert shown_dates == sorted(shown_dates, reverse=True)


async def test_typing_before_the_cases_load_still_shows_results(
    kb_dir: Path,
) -> None:
    class GatedKnowledgeBase(KnowledgeBase):
        """Opens only once the test lets it, so keys arrive first."""

        gate = threading.Event()

        def open(self) -> SyncReport:
            assert self.gate.wait(timeout=60), "The test never opened the gate."
            return super().open()

    app = NetcaseApp(GatedKnowledgeBase(resolve_paths(kb_dir)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"FTP 速度慢")
        assert result_ids(app) == []
        assert app.search_screen.query_one(Input).value == "FTP 速度慢"

        GatedKnowledgeBase.gate.set()
        await settle(app, pilot)

        assert result_ids(app)[0] == "wifi-roaming-ftp-slowdown"


async def test_broken_case_file_warns_and_the_rest_still_loads(
    kb_dir: Path,
) -> None:
    (kb_dir / "broken-yaml.md").write_text(BROKEN_YAML, encoding="utf-8")

    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)

        warnings = [n for n in app._notifications if n.severity == "warning"]
        assert len(warnings) == 1
        assert "broken-yaml.md:" in warnings[0].message
        assert "broken-yaml" not in result_ids(app)

        await type_query(app, pilot, "FTP 速度慢")
        assert result_ids(app)[0] == "wifi-roaming-ftp-slowdown"

        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen)
        assert [p.path.name for p in app.screen.problems] == ["broken-yaml.md"]


@pytest.mark.parametrize(
    "query",
    [
        "，。！？、；：…—!?.;:'\"()[]{}<>*&^%$#@~`|\\/",
        ("FTP 速度慢 paypal 打不开 www.paypalobjects.com 10.20.0.9 " * 60)[:2000],
    ],
    ids=["punctuation", "2000-characters"],
)
async def test_odd_queries_leave_a_sane_list(kb_dir: Path, query: str) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        total = len(result_ids(app))

        query_input = app.search_screen.query_one(Input)
        query_input.post_message(events.Paste(query))
        await settle(app, pilot)

        assert query_input.value == query
        assert app.is_running
        assert 0 < len(result_ids(app)) <= total
        assert not [n for n in app._notifications if n.severity == "error"]


def status_line(app: NetcaseApp) -> str:
    return str(app.search_screen.query_one("#status", Static).content)


@pytest.mark.parametrize("query", ["!!!", "🙂🙂 ？！"], ids=["bangs", "emoji"])
async def test_a_query_without_words_says_so_and_lists_the_newest_cases(
    kb_dir: Path, query: str
) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        newest = result_ids(app)

        app.search_screen.query_one(Input).post_message(events.Paste(query))
        await settle(app, pilot)

        assert status_line(app) == (
            f"No words to search in {query!r}; showing the newest cases"
        )
        assert result_ids(app) == newest

        await type_query(app, pilot, "FTP 速度慢")
        assert status_line(app).endswith("cases match, best first")


async def test_command_palette_lists_a_case_by_title_and_opens_it(
    kb_dir: Path,
) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)

        await pilot.press("ctrl+p")
        await pilot.press(*"PayPal suddenly")
        await settle(app, pilot)
        assert isinstance(app.screen, CommandPalette)
        commands = app.screen.query_one(CommandList)
        prompts = [str(option.prompt) for option in commands.options]
        assert any("PayPal suddenly won't open" in prompt for prompt in prompts)

        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen)
        assert app.screen.case_id == "paypal-telecom-uplink"


async def test_worker_failure_becomes_an_error_notification(kb_dir: Path) -> None:
    class UnopenableKnowledgeBase(KnowledgeBase):
        def open(self) -> SyncReport:
            raise ConfigError("The case folder '/nowhere' does not exist.")

    app = NetcaseApp(UnopenableKnowledgeBase(resolve_paths(kb_dir)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)

        errors = [n for n in app._notifications if n.severity == "error"]
        assert [n.message for n in errors] == [
            "The case folder '/nowhere' does not exist."
        ]
        assert app.is_running


async def test_80x24_shows_the_query_box_and_the_results(kb_dir: Path) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.search_screen
        results = screen.query_one(ResultList)

        assert screen.query_one(Input).region.height > 0
        assert results.region.width > 0 and results.region.height > 0
        assert not screen.query_one(CaseView).display
        # Every line fills its width exactly, Chinese lines included: nothing
        # spills past the edge and no wide character is cut in half.
        width = results.scrollable_content_region.width
        for y in range(results.size.height):
            assert results.render_line(y).cell_length == width


async def test_wide_terminal_shows_the_preview_beside_the_list(
    kb_dir: Path,
) -> None:
    app = make_app(kb_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.search_screen
        preview = screen.query_one(CaseView)

        assert preview.region.width > 0
        assert preview.region.x > screen.query_one(ResultList).region.x
        assert f"`{result_ids(app)[0]}`" in preview.markdown.source


@pytest.fixture
def saved_logging() -> Iterator[logging.Logger]:
    """A logger writing to stderr as jieba's does; the root handlers come back."""
    root = logging.getLogger()
    root_handlers = list(root.handlers)
    chatty = logging.getLogger("test_tui.chatty")
    chatty.addHandler(logging.StreamHandler(sys.stderr))
    yield chatty
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in root_handlers:
        root.addHandler(handler)
    chatty.handlers.clear()


def test_log_records_go_to_textual_not_the_terminal(
    saved_logging: logging.Logger,
) -> None:
    route_logging_to_textual()

    assert saved_logging.handlers == []
    assert [type(h) for h in logging.getLogger().handlers] == [TextualHandler]


async def test_playbook_naming_an_unknown_probe_warns_with_its_line(
    kb_dir: Path,
) -> None:
    path = kb_dir / "docker-apt-clock-skew.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("probe: clock", "probe: sundial"),
        encoding="utf-8",
    )

    app = make_app(kb_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)

        warnings = [n for n in app._notifications if n.severity == "warning"]
        (warning,) = [n for n in warnings if "sundial" in n.message]
        assert warning.title == "Playbook problems"
        assert warning.message.startswith(
            "1 case can be read and searched but not diagnosed until fixed "
            "(1 problem).\n"
        )
        assert "docker-apt-clock-skew.md:" in warning.message
        await type_query(app, pilot, "Release file is not valid yet")
        assert result_ids(app)[0] == "docker-apt-clock-skew"
