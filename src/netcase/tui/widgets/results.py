"""The list of cases a query found: titles, tags and the highlighted snippet."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import OptionList
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from netcase.kb.search import SearchHit


MARKED = re.compile(r"\*\*(.+?)\*\*")
SNIPPET_LINES = 2


def snippet_text(snippet: str, hit_style: Style | str = "bold") -> Text:
    """Turn a snippet's ``**word**`` marks into styled text without asterisks."""
    text = Text()
    cursor = 0
    for match in MARKED.finditer(snippet):
        text.append(snippet[cursor : match.start()])
        text.append(match.group(1), style=hit_style)
        cursor = match.end()
    text.append(snippet[cursor:])
    return text


class HitView:
    """One search hit drawn in a few lines that fit whatever width it is given.

    The titles and tags take one line each, cut with an ellipsis; the snippet
    wraps onto at most ``SNIPPET_LINES`` lines. Rich measures every line in
    terminal cells, so a wide Chinese character is never cut in half.

    Args:
        hit: The case found.
        hit_style: The style of the words the query matched.
        tags_style: The style of the tag line.
    """

    def __init__(self, hit: SearchHit, hit_style: Style, tags_style: Style) -> None:
        self.hit = hit
        self.hit_style = hit_style
        self.tags_style = tags_style

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> RenderResult:
        width = options.max_width
        tags = " ".join(f"#{tag}" for tag in self.hit.tags)
        yield _one_line(Text(self.hit.title, style="bold"), width)
        yield _one_line(Text(self.hit.title_zh), width)
        yield _one_line(Text(tags, style=self.tags_style), width)

        snippet = snippet_text(self.hit.snippet, self.hit_style)
        lines = list(snippet.wrap(console, width))
        if len(lines) > SNIPPET_LINES:
            lines = lines[:SNIPPET_LINES]
            lines[-1].rstrip()
            lines[-1].truncate(width - 1)
            lines[-1].append("…")
        yield from lines


def _one_line(text: Text, width: int) -> Text:
    text.no_wrap = True
    text.truncate(width, overflow="ellipsis")
    return text


class ResultList(OptionList):
    """The ranked cases of the last query; each option's id is the case id.

    A thin rule separates one case from the next.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | enter | Open the highlighted case, as Enter in the query box does. |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"result-list--hit", "result-list--tags"}
    """
    | Class | Description |
    | :- | :- |
    | `result-list--hit` | The words of a snippet that the query matched. |
    | `result-list--tags` | The line of a case's tags. |
    """

    def show_hits(self, hits: Sequence[SearchHit]) -> None:
        """Replace the options with ``hits`` and highlight the first one."""
        hit_style = self.get_component_rich_style("result-list--hit", partial=True)
        tags_style = self.get_component_rich_style("result-list--tags", partial=True)
        options: list[Option | None] = []
        for hit in hits:
            options += [Option(HitView(hit, hit_style, tags_style), id=hit.id), None]
        self.set_options(options[:-1])
        self.highlighted = 0 if hits else None

    @property
    def highlighted_case_id(self) -> str | None:
        """The id of the highlighted case, or None when the list is empty."""
        if self.highlighted is None or not self.option_count:
            return None
        return self.get_option_at_index(self.highlighted).id
