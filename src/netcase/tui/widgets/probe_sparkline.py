"""A strip chart of a probe's samples whose bars start at zero.

Textual's Sparkline scales each line between its own lowest and highest
value, so a steady 40 Mbit/s with 0.3 Mbit/s of jitter looks like a collapse,
and two uplinks' lines cannot be compared. This one draws from zero to a
ceiling that several lines may share, one column per sample, newest on the
right, and marks a lost sample. When the number of samples to come is known,
each gets an equal share of the width, so a short run fills the line.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

EIGHTHS = " ▁▂▃▄▅▆▇█"
LOST = "×"


class ZeroSparkline(Widget):
    """Bars from zero, one per sample; None is a lost sample.

    Args:
        data: The samples, oldest first.
        expected: How many samples the run will give, to size the bars.
        id: The widget's id.
    """

    DEFAULT_CSS = """
    ZeroSparkline {
        height: 1;
        color: $primary;
    }
    """

    data: reactive[tuple[float | None, ...]] = reactive(tuple, layout=False)
    """The samples, oldest first; only the newest that fit are drawn."""
    ceiling: reactive[float | None] = reactive(None)
    """The value of a full bar; None means the highest sample shown."""

    def __init__(
        self,
        data: Sequence[float | None] = (),
        *,
        expected: int | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.data = tuple(data)
        self.expected = expected

    def _bar_width(self) -> int:
        """Columns per sample: an equal share of the width, when the count is known."""
        slots = max(self.expected or 0, len(self.data), 1)
        return max(1, self.size.width // slots)

    def render(self) -> RenderResult:
        """Draw the newest samples that fit, as many lines high as the widget."""
        bar_width, height = self._bar_width(), max(1, self.size.height)
        fitting = self.size.width // bar_width
        shown = self.data[-fitting:] if fitting else ()
        measured = [value for value in shown if value is not None]
        top = self.ceiling or max(measured, default=0.0) or 1.0
        lines = [Text() for _ in range(height)]
        for value in shown:
            for row, cell in enumerate(column_cells(value, top, height)):
                lines[row].append(cell * bar_width, style="red" if cell == LOST else "")
        return Text("\n").join(lines)


def column_cells(value: float | None, top: float, height: int) -> list[str]:
    """Return one sample's cells from the top line down, a full bar being ``top``."""
    if value is None:
        return [" "] * (height - 1) + [LOST]
    eighths = round(min(value, top) / top * height * 8)
    if value > 0:
        eighths = max(eighths, 1)
    cells = [EIGHTHS[min(8, max(0, eighths - 8 * level))] for level in range(height)]
    return cells[::-1]
