"""What a diagnosis concluded: its findings, the ranked causes and what it ruled out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from netcase.diagnose.engine import Diagnosis
    from netcase.diagnose.ranking import RankedCause
    from netcase.probes.findings import Finding

SEVERITY_STYLES = {"info": "green", "warning": "yellow", "error": "bold red"}
CAUSES_SHOWN = 5


def _heading(text: str) -> Text:
    return Text(text, style="bold underline")


def _grid() -> Table:
    """A borderless table whose second column wraps under itself."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    return grid


def findings_table(diagnosis: Diagnosis) -> Table:
    """List each finding with its severity, code and measured summary."""
    grid = _grid()
    for finding in diagnosis.findings:
        severity = str(finding.severity)
        line = Text(finding.code, style="bold")
        line.append(f": {finding.summary}")
        grid.add_row(Text(severity, style=SEVERITY_STYLES.get(severity, "")), line)
    if not diagnosis.findings:
        grid.add_row(
            "", Text("No finding: the steps saw nothing to report.", style="dim")
        )
    return grid


def causes_table(causes: list[RankedCause]) -> Table:
    """Say each cause: rank, score, title, and the findings for and against it."""
    grid = _grid()
    for rank, cause in enumerate(causes, 1):
        head = Text(cause.case_id, style="bold strike" if cause.ruled_out else "bold")
        head.append(f"  score {cause.score:.2f}")
        if cause.ruled_out:
            head.append("  ruled out", style="red")
        head.append(f"\n{cause.title}", style="italic")
        grid.add_row(Text(f"{rank}.", style="bold"), head)
        for finding in cause.supports:
            grid.add_row("", _evidence("for", "green", finding))
        for finding in cause.against:
            grid.add_row("", _evidence("against", "red", finding))
    return grid


def _evidence(label: str, style: str, finding: Finding) -> Text:
    text = Text(f"{label}: ", style=style)
    text.append(f"{finding.code}: {finding.summary}")
    return text


class DiagnosisSummary(Static):
    """Shows the findings, the best causes and the ruled-out statements of a run."""

    DEFAULT_CSS = """
    DiagnosisSummary {
        height: auto;
        padding: 0 1;
    }
    """

    def show(self, diagnosis: Diagnosis) -> None:
        """Draw the conclusions of ``diagnosis``."""
        parts: list[RenderableType] = [
            _heading("Findings / 发现"),
            findings_table(diagnosis),
            Text(),
            _heading("Likely causes / 可能原因"),
        ]
        shown = diagnosis.causes[:CAUSES_SHOWN]
        parts.append(causes_table(shown))
        if not shown:
            parts.append(Text("No case matches the findings or the symptom."))
        hidden = len(diagnosis.causes) - len(shown)
        if hidden > 0:
            parts.append(Text(f"… and {hidden} more in the report.", style="dim"))

        if diagnosis.ruled_out:
            ruled_out = _grid()
            for statement in diagnosis.ruled_out:
                ruled_out.add_row("-", statement)
            parts += [Text(), _heading("Ruled out / 已排除"), ruled_out]
        self.update(Group(*parts))
