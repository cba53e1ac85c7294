"""The search screen: type a symptom, see the ranked cases and read the highlighted one."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.worker import get_current_worker

from netcase.tui.screens.case import CaseScreen
from netcase.tui.screens.diagnose import DiagnoseScreen
from netcase.tui.screens.history import HistoryScreen
from netcase.tui.screens.problems import ProblemsScreen
from netcase.tui.widgets.case_view import CaseView
from netcase.tui.widgets.query import QueryInput
from netcase.tui.widgets.results import ResultList

if TYPE_CHECKING:
    from netcase.kb.catalog import FileProblem
    from netcase.kb.search import ParsedQuery, SearchHit
    from netcase.kb.service import KnowledgeBase

DEBOUNCE_S = 0.15
SEARCH_LIMIT = 50
RECENT_LIMIT = 200
"""The empty query lists this many cases: a list of thousands takes seconds to build."""
PLACEHOLDER = "Describe the symptom, in Chinese or English (tag:wifi filters)"
PREVIEW_PLACEHOLDER = "*No case is highlighted.*"


class SearchScreen(Screen[None]):
    """The main screen: a query box, the ranked cases and a preview of one.

    Args:
        kb: The knowledge base to search; it is opened by the App, which calls
            :meth:`knowledge_base_opened` once searching can start.
    """

    AUTO_FOCUS = "#query"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "move_highlight(1)", "Next case", show=False),
        Binding("up", "move_highlight(-1)", "Previous case", show=False),
        Binding("pagedown", "page_highlight(1)", "Page down", show=False),
        Binding("pageup", "page_highlight(-1)", "Page up", show=False),
        Binding("escape", "clear_query", "Clear", show=False),
        Binding("f2", "show_problems", "Problems"),
        Binding("f3", "app.probes", "Probes"),
        Binding("f4", "diagnose", "Diagnose"),
        Binding("d", "diagnose", "Diagnose", show=False),
        Binding("f5", "show_history", "History"),
        Binding("f6", "diagnose_symptom", "Symptom only", show=False),
        Binding("h", "show_history", "History", show=False),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | down | Highlight the next case, even while typing. |
    | up | Highlight the previous case, even while typing. |
    | pagedown | Move the highlight a page down. |
    | pageup | Move the highlight a page up. |
    | escape | Clear the query, listing every case again. |
    | f2 | List the case files that could not be loaded; offered only when some were. |
    | f3 | Open the probe screen (the App's key, shown in this footer). |
    | f4 | Diagnose the highlighted case, the query as the symptom; no query: standard probes. |
    | d | The same as f4, when the result list has the keys. |
    | f5 | List past diagnosis sessions and their reports. |
    | h | The same as f5, when the result list has the keys. |
    | f6 | Diagnose the typed symptom alone: the standard probes, no case chosen. |
    """

    class SearchFinished(Message):
        """A search worker ranked the cases for a query."""

        def __init__(
            self, query: str, hits: list[SearchHit], parsed: ParsedQuery
        ) -> None:
            super().__init__()
            self.query = query
            self.hits = hits
            self.parsed = parsed
            """The words, identifiers and tag filters found in the query."""

    def __init__(self, kb: KnowledgeBase) -> None:
        super().__init__()
        self.kb = kb
        self.all_cases: list[SearchHit] = []
        self.problems: list[FileProblem] = []
        self.ready = False
        self.requested_query: str | None = None
        """The query whose results the list waits for, or shows."""
        self.shown_query: str | None = None
        """The query whose results the list shows."""
        self._after_shown: Callable[[], None] | None = None
        """What Enter or F4 asked for before the typed query's results showed."""

    def compose(self) -> ComposeResult:
        yield QueryInput(placeholder=PLACEHOLDER, id="query")
        with Horizontal(id="panes"):
            yield ResultList(id="results")
            yield CaseView(self.kb, PREVIEW_PLACEHOLDER, id="preview")
        yield Static("Loading cases…", id="status", markup=False)
        yield Footer()

    @property
    def results(self) -> ResultList:
        """The list of ranked cases."""
        return self.query_one(ResultList)

    def knowledge_base_opened(
        self, cases: Sequence[SearchHit], problems: Sequence[FileProblem]
    ) -> None:
        """Start searching: show the results for whatever was typed meanwhile."""
        self.all_cases = list(cases)
        self.problems = list(problems)
        self.ready = True
        self.refresh_bindings()
        self._search(self.query_one(Input).value, delay_s=0.0)

    def add_problems(self, problems: Sequence[FileProblem]) -> None:
        """Add problems found after the cases loaded, and offer F2 for them."""
        self.problems.extend(problems)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer F2 only when there are problems to list."""
        if action == "show_problems":
            return bool(self.problems)
        return True

    def knowledge_base_failed(self, reason: str) -> None:
        """Say in the status line that no case could be loaded."""
        self.query_one("#status", Static).update(f"No cases loaded: {reason}")

    @on(Input.Changed, "#query")
    def _query_changed(self, event: Input.Changed) -> None:
        self._search(event.value, delay_s=DEBOUNCE_S)

    def _search(self, query: str, delay_s: float) -> None:
        """Rank the cases for ``query`` in a worker that replaces any older one."""
        if not self.ready:
            return
        self.requested_query = query
        if not query.strip():
            self._show(query, self.all_cases[:RECENT_LIMIT])
            return

        # The App runs the worker so that its one failure handler reports errors.
        self.app.run_worker(
            partial(self._rank_in_thread, self.kb, query, delay_s),
            name="search",
            group="search",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _rank_in_thread(self, kb: KnowledgeBase, query: str, delay_s: float) -> None:
        from netcase.kb.search import parse_query

        # Waiting first lets the next key cancel this search before it costs anything.
        worker = get_current_worker()
        time.sleep(delay_s)
        if worker.is_cancelled:
            return

        hits = kb.search(query, limit=SEARCH_LIMIT)
        if not worker.is_cancelled:
            self.post_message(self.SearchFinished(query, hits, parse_query(query)))

    def on_search_screen_search_finished(self, message: SearchFinished) -> None:
        """Show the hits, unless the query changed while they were ranked."""
        if message.query == self.requested_query:
            self._show(message.query, message.hits, message.parsed)

    def _show(
        self, query: str, hits: Sequence[SearchHit], parsed: ParsedQuery | None = None
    ) -> None:
        self.shown_query = query
        self.results.show_hits(hits)
        self.query_one(CaseView).show(self.results.highlighted_case_id)
        status = self._status(query, len(hits), parsed)
        self.query_one("#status", Static).update(status)
        then, self._after_shown = self._after_shown, None
        if then is not None:
            then()

    def _status(self, query: str, count: int, parsed: ParsedQuery | None) -> str:
        total = len(self.all_cases)
        if not query.strip() and total > count:
            line = f"{total} cases; the {count} most recently updated first"
        elif not query.strip():
            line = f"{total} cases, most recently updated first"
        elif parsed is not None and parsed.is_empty:
            line = _wordless_status(query, count, parsed.tags)
        elif count == 0:
            line = f"No case of {total} matches; try other words"
        else:
            line = f"{count} of {total} cases match, best first"
        skipped = len({problem.path for problem in self.problems})
        if skipped:
            line += f" · {skipped} file{'s' if skipped != 1 else ''} skipped (F2)"
        return line

    @on(OptionList.OptionHighlighted, "#results")
    def _preview_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.query_one(CaseView).show(event.option.id)

    @on(OptionList.OptionSelected, "#results")
    def _open_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.app.push_screen(
                CaseScreen(self.kb, event.option.id, self.query_one(Input).value)
            )

    @on(Input.Submitted, "#query")
    def _query_submitted(self) -> None:
        self._when_shown(self._open_highlighted)

    def _when_shown(self, then: Callable[[], None]) -> None:
        """Call ``then`` once the list shows the results of the query as typed now.

        A key pressed before the debounced search ended acts on the new best
        case, not on the one the previous query highlighted.
        """
        query = self.query_one(Input).value
        if query == self.shown_query:
            then()
            return
        self._after_shown = then
        self._search(query, delay_s=0.0)

    def _open_highlighted(self) -> None:
        case_id = self.results.highlighted_case_id
        if case_id is not None:
            self.app.push_screen(
                CaseScreen(self.kb, case_id, self.query_one(Input).value)
            )

    def action_move_highlight(self, step: int) -> None:
        """Move the highlight up or down the results."""
        if step > 0:
            self.results.action_cursor_down()
        else:
            self.results.action_cursor_up()

    async def action_page_highlight(self, step: int) -> None:
        """Move the highlight a page up or down the results."""
        await self.results.run_action("page_down" if step > 0 else "page_up")

    def action_clear_query(self) -> None:
        """Empty the query box and give it the keys."""
        query_input = self.query_one(Input)
        query_input.value = ""
        query_input.focus()

    def action_show_problems(self) -> None:
        """List the case files the last sync could not load."""
        self.app.clear_notifications()
        self.app.push_screen(ProblemsScreen(self.problems))

    def action_diagnose(self) -> None:
        """Diagnose the highlighted case with the typed symptom; nothing typed: no case.

        With an empty query the highlight is merely the newest case, which the
        engineer did not choose, so the standard probes rank the cases instead.
        """
        if self._cases_ready():
            self._when_shown(self._diagnose_highlighted)

    def _diagnose_highlighted(self) -> None:
        symptom = self.query_one(Input).value
        case_id = self.results.highlighted_case_id if symptom.strip() else None
        self.app.push_screen(DiagnoseScreen(self.kb, case_id, symptom))

    def action_diagnose_symptom(self) -> None:
        """Diagnose the typed symptom alone: the standard probes rank the cases."""
        if self._cases_ready():
            symptom = self.query_one(Input).value
            self.app.push_screen(DiagnoseScreen(self.kb, None, symptom))

    def action_show_history(self) -> None:
        """List past diagnosis sessions."""
        if self._cases_ready():
            self.app.push_screen(HistoryScreen(self.kb))

    def _cases_ready(self) -> bool:
        if not self.ready:
            self.notify("The cases are still loading; try again in a moment.")
        return self.ready


def _wordless_status(query: str, count: int, tags: Sequence[str]) -> str:
    """Say that a query of only punctuation, symbols or tags listed the newest cases."""
    if tags:
        tagged = " ".join(f"#{tag}" for tag in tags)
        return f"{count} cases tagged {tagged}, most recently updated first"
    return f"No words to search in {query.strip()!r}; showing the newest cases"
