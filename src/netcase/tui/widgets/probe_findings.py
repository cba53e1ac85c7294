"""The findings of a finished probe run, one per line: severity, code, summary."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from netcase.probes.findings import Finding

SEVERITY_STYLES = {"info": "green", "warning": "yellow", "error": "bold red"}


class FindingsList(VerticalScroll):
    """Lists findings under the results; hidden until a run has finished."""

    DEFAULT_CSS = """
    FindingsList {
        display: none;
        height: auto;
        max-height: 35%;
        border-top: solid $foreground 20%;
        border-title-color: $text-muted;
        padding: 0 1;
    }
    FindingsList.-shown {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.findings: list[Finding] = []
        """The findings shown, worst first."""

    def compose(self) -> ComposeResult:
        yield Static(id="findings-text")

    def show(self, findings: Sequence[Finding]) -> None:
        """List ``findings``, worst first, keeping the probe's order within a severity."""
        order = list(SEVERITY_STYLES)[::-1]
        self.findings = sorted(findings, key=lambda f: order.index(str(f.severity)))
        self.border_title = f"Findings ({len(self.findings)})"
        self.query_one("#findings-text", Static).update(_table(self.findings))
        self.set_class(True, "-shown")

    def hide(self) -> None:
        """Hide the list until the next run has finished."""
        self.set_class(False, "-shown")


def _table(findings: Sequence[Finding]) -> Table | Text:
    if not findings:
        return Text("No findings: the probe stated nothing about what it measured.")
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    # Folding keeps a long summary whole: Chinese has no spaces to wrap at.
    table.add_column(ratio=1, overflow="fold")
    for finding in findings:
        severity = str(finding.severity)
        table.add_row(
            Text(severity, style=SEVERITY_STYLES.get(severity, "")),
            Text(finding.code, style="bold"),
            Text(finding.summary),
        )
    return table
