"""A scrollable Markdown view of one case, read from the catalog off the UI thread."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Markdown
from textual.worker import get_current_worker

if TYPE_CHECKING:
    from netcase.kb.case import Case
    from netcase.kb.service import KnowledgeBase


class CaseView(VerticalScroll):
    """Shows the case last asked for with :meth:`show`, as Markdown.

    Args:
        kb: The knowledge base to read the case from.
        placeholder: The Markdown shown before any case.
    """

    class CaseLoaded(Message):
        """A case was read from the catalog and can be shown."""

        def __init__(self, case: Case) -> None:
            super().__init__()
            self.case = case

    def __init__(
        self,
        kb: KnowledgeBase,
        placeholder: str = "",
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.kb = kb
        self.placeholder = placeholder
        self.case_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Markdown(self.placeholder)

    @property
    def markdown(self) -> Markdown:
        """The Markdown widget holding the case."""
        return self.query_one(Markdown)

    def show(self, case_id: str | None) -> None:
        """Read the case ``case_id`` in a worker and show it; None clears the view."""
        if case_id == self.case_id:
            return
        self.case_id = case_id
        if case_id is None:
            self.markdown.update(self.placeholder)
            return

        # The App runs the worker so that its one failure handler reports errors.
        self.app.run_worker(
            partial(self._read_case, self.kb, case_id),
            name=f"read case {case_id}",
            group=f"case-view-{id(self)}",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _read_case(self, kb: KnowledgeBase, case_id: str) -> None:
        case = kb.get(case_id)
        if not get_current_worker().is_cancelled:
            self.post_message(self.CaseLoaded(case))

    async def on_case_view_case_loaded(self, message: CaseView.CaseLoaded) -> None:
        """Show the case that was read, unless another was asked for since."""
        message.stop()
        if message.case.id != self.case_id:
            return
        await self.markdown.update(message.case.markdown)
        self.scroll_home(animate=False)
