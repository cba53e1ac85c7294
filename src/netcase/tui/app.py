"""The netcase App: opens the knowledge base, owns the screens, reports failures."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.logging import TextualHandler
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from netcase.config import Paths
from netcase.errors import NetcaseError
from netcase.kb.service import KnowledgeBase
from netcase.site import Site, load_site
from netcase.tui.screens.case import CaseScreen
from netcase.tui.screens.search import SearchScreen
from netcase.tui.titles import TitleIndex
from netcase.wording import counted

if TYPE_CHECKING:
    from netcase.kb.catalog import FileProblem
    from netcase.kb.search import SearchHit

log = logging.getLogger(__name__)

PROBLEMS_IN_NOTIFICATION = 3


class KnowledgeBaseOpened(Message):
    """The case folder was synced and the search index is ready."""

    def __init__(
        self, cases: Sequence[SearchHit], problems: Sequence[FileProblem]
    ) -> None:
        super().__init__()
        self.cases = list(cases)
        """Every usable case, most recently updated first."""
        self.titles = TitleIndex(self.cases)
        """The same cases for the command palette, indexed in the sender's thread."""
        self.problems = list(problems)
        """The case files that could not be loaded."""


class PlaybooksChecked(Message):
    """The cases' playbooks were checked against the probes and action kinds."""

    def __init__(self, problems: Sequence[FileProblem]) -> None:
        super().__init__()
        self.problems = list(problems)
        """The playbook problems, as ``path:line: message``."""


class CaseCommands(Provider):
    """Offers the cases in the command palette, found by their titles or their id."""

    def _titles(self) -> TitleIndex:
        app = self.app
        return app.titles if isinstance(app, NetcaseApp) else TitleIndex([])

    def _open(self, case_id: str) -> None:
        app = self.app
        if isinstance(app, NetcaseApp):
            app.open_case(case_id)

    async def discover(self) -> Hits:
        """List the newest cases before anything is typed."""
        for case in self._titles().newest():
            yield DiscoveryHit(
                case.title, partial(self._open, case.id), help=_help(case)
            )

    async def search(self, query: str) -> Hits:
        """Yield the cases whose English or Chinese title, or id, matches ``query``."""
        matcher = self.matcher(query)
        for case in self._titles().candidates(query):
            score = max(
                matcher.match(name) for name in (case.title, case.title_zh, case.id)
            )
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(case.title),
                    partial(self._open, case.id),
                    text=case.title,
                    help=_help(case),
                )


def _help(case: SearchHit) -> str:
    return f"{case.title_zh}\n{case.id}"


class NetcaseApp(App[None]):
    """Find past network incidents by their symptoms and read them.

    Args:
        kb: The knowledge base to show; it is opened in a worker once the App
            runs, so the query box takes keys at once.
    """

    CSS_PATH = "app.tcss"
    TITLE = "netcase"
    COMMANDS = App.COMMANDS | {CaseCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f3", "probes", "Probes", show=False),
        Binding("p", "probes", "Probes", show=False),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | ctrl+q | Quit netcase. |
    | f3 | Open the probe screen, even while typing a query. |
    | p | Open the probe screen when no text field has the focus. |

    The footer shows F3 only on the screens that bind it again to ``app.probes``
    (search and case), so that an 80-column footer keeps room for their own keys
    and the probe screen does not offer itself.
    """

    def __init__(self, kb: KnowledgeBase, site: Site | None = None) -> None:
        super().__init__()
        self.kb = kb
        self.site = site or Site()
        """The site profile the probes use."""
        self.titles = TitleIndex([])
        """Every usable case, most recently updated first, for the command palette."""
        self._search_screen: SearchScreen | None = None

    def get_default_screen(self) -> Screen[None]:
        """Start on the search screen."""
        self._search_screen = SearchScreen(self.kb)
        return self._search_screen

    @property
    def search_screen(self) -> SearchScreen:
        """The search screen, at the bottom of the screen stack."""
        assert self._search_screen is not None, "The App is not running."
        return self._search_screen

    def on_mount(self) -> None:
        """Open the knowledge base off the event loop; it loads jieba and syncs."""
        self.run_worker(
            partial(self._open_in_thread, self.kb),
            name="open knowledge base",
            group="open",
            thread=True,
            exit_on_error=False,
        )

    def _open_in_thread(self, kb: KnowledgeBase) -> None:
        report = kb.open()
        cases = kb.search("", limit=max(1, len(report.active)))
        self.post_message(KnowledgeBaseOpened(cases, kb.problems))

        from netcase.diagnose.checks import load_playbooks

        _playbooks, problems = load_playbooks(kb.case_files())
        self.post_message(PlaybooksChecked(problems))

    def on_playbooks_checked(self, message: PlaybooksChecked) -> None:
        """Warn about playbooks that name unknown probes, findings or inputs."""
        if message.problems:
            self.search_screen.add_problems(message.problems)
            files = len({problem.path for problem in message.problems})
            self._warn_about(
                message.problems,
                "Playbook problems",
                f"{counted(files, 'case')} can be read and searched but not "
                f"diagnosed until fixed ({counted(len(message.problems), 'problem')}).",
            )

    def on_knowledge_base_opened(self, message: KnowledgeBaseOpened) -> None:
        """Let the search start, and warn about case files that were skipped."""
        self.titles = message.titles
        self.search_screen.knowledge_base_opened(message.cases, message.problems)
        if message.problems:
            files = len({problem.path for problem in message.problems})
            self._warn_about(
                message.problems,
                "Case file problems",
                f"{counted(files, 'case file')} could not be loaded "
                f"({counted(len(message.problems), 'problem')}); every other case "
                "is searchable.",
            )

    def _warn_about(
        self, problems: Sequence[FileProblem], title: str, summary: str
    ) -> None:
        shown = [str(problem) for problem in problems[:PROBLEMS_IN_NOTIFICATION]]
        if len(problems) > PROBLEMS_IN_NOTIFICATION:
            hidden = len(problems) - PROBLEMS_IN_NOTIFICATION
            shown.append(f"… and {hidden} more: F2 lists them all.")
        self.notify(
            "\n".join([summary, *shown]),
            title=title,
            severity="warning",
            timeout=20,
            markup=False,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn any failed worker into an error notification."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, NetcaseError):
            title, text = error.title, error.message
        else:
            title, text = "Unexpected error", f"{type(error).__name__}: {error}"
        log.error("worker %r failed: %s", event.worker.name, text, exc_info=error)

        if event.worker.group == "open":
            self.search_screen.knowledge_base_failed(text)
        self.notify(text, title=title, severity="error", timeout=20, markup=False)

    def open_case(self, case_id: str) -> None:
        """Show one case on its own screen."""
        self.push_screen(CaseScreen(self.kb, case_id))

    def action_probes(self) -> None:
        """Open the probe screen, unless it is already showing."""
        # Imported here so that starting the TUI does not load the probe modules.
        from netcase.tui.screens.probe import ProbeScreen

        if not isinstance(self.screen, ProbeScreen):
            self.push_screen(ProbeScreen(self.site))


def route_logging_to_textual() -> None:
    """Send log records to Textual's log and never to the terminal under the App.

    A handler writing to the real stderr (the CLI's, or the one jieba adds to
    its own logger) would paint its lines over the screen.
    """
    terminal_streams = {sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__}
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(TextualHandler())

    for logger in logging.Logger.manager.loggerDict.values():
        if not isinstance(logger, logging.Logger):
            continue
        for handler in list(logger.handlers):
            stream = getattr(handler, "stream", None)
            if stream in terminal_streams:
                logger.removeHandler(handler)


def run_tui(paths: Paths, site: Site | None = None) -> int:
    """Run the TUI on the cases of ``paths``; return the process exit code.

    Args:
        paths: Where the cases, the catalog and the index are.
        site: The site profile for the probes; by default $NETCASE_SITE's.
    """
    site = site or load_site(None)
    route_logging_to_textual()
    app = NetcaseApp(KnowledgeBase(paths), site)
    app.run()
    return app.return_code or 0
