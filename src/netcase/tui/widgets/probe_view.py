"""The base of the probe screen's live views, and the formatting they share.

Each view takes the probe's progress payloads one at a time, then the
finished result, which is the authority: whatever the progress showed is
corrected from the result's measurements.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.containers import Vertical
from textual.widgets import Static

from netcase.probes.result import ProbeResult


def cut(text: str, width: int) -> str:
    """Shorten ``text`` to ``width`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


def ms_text(value_ms: float | None) -> str:
    """Return a time in ms with the precision a person reads, or a dash."""
    if value_ms is None:
        return "–"
    return f"{value_ms:.0f}" if value_ms >= 100 else f"{value_ms:.2f}"


class ProbeView(Vertical):
    """What one run shows while it goes and once it ends."""

    DEFAULT_CSS = """
    ProbeView {
        height: 1fr;
    }
    ProbeView > DataTable {
        height: auto;
        max-height: 1fr;
    }
    ProbeView > .probe-notes {
        height: auto;
        color: $text-muted;
        padding: 0 1;
    }
    """

    def show_progress(self, payload: Any) -> str:
        """Show one progress payload; return a few words for the status line."""
        raise NotImplementedError

    def show_result(self, result: ProbeResult) -> None:
        """Show the finished run's measurements."""
        raise NotImplementedError

    def note(self, lines: Sequence[str]) -> None:
        """Show the run's notes (a fallback used, an uplink that failed)."""
        self.query_one(".probe-notes", Static).update("\n".join(lines))
