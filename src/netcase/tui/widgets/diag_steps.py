"""The steps of a running diagnosis, each with its live state and timing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.widget import Widget

if TYPE_CHECKING:
    from netcase.diagnose.engine import StepEvent
    from netcase.diagnose.playbook import Step

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
NO_CASE_STEPS = "No steps in this case's playbook: ctrl+t runs the standard probes."
NO_STANDARD_STEPS = "No standard probe targets in the site profile."
REFRESH_S = 0.2
MARKS = {
    "pending": ("·", "dim"),
    "waiting": ("?", "bold yellow"),
    "done": ("✔", "green"),
    "failed": ("✘", "bold red"),
    "skipped": ("↷", "yellow"),
    "stopped": ("■", "red"),
    "not run": ("-", "dim"),
}


def progress_text(payload: Any) -> str:
    """Say in a few words what a probe's progress report tells."""
    if hasattr(payload, "mbps") and hasattr(payload, "second"):
        return f"{payload.run} second {payload.second}: {payload.mbps:.1f} Mbit/s"
    if hasattr(payload, "done") and hasattr(payload, "total"):
        return f"{payload.done} of {payload.total}"
    if hasattr(payload, "uplink") and hasattr(payload, "method"):
        return f"{payload.uplink}: {payload.method}"
    if hasattr(payload, "command"):
        return f"{getattr(payload, 'event', '')} {payload.command}".strip()
    return ""


def ready_text(steps: tuple[Step, ...], of_case: bool) -> str:
    """Say what running will do, and offer the standard probes for a case's empty playbook."""
    if not steps and of_case:
        return (
            "This case's playbook has no steps to run. ctrl+t switches to the "
            "standard probes; ctrl+r ranks the cases by the symptom alone."
        )
    if not steps:
        return (
            "No step to run: the site profile names no standard probe targets. "
            "ctrl+r ranks the cases by the symptom alone."
        )
    manual = sum(step.is_manual for step in steps)
    return f"{len(steps)} steps ({manual} manual). Fill in the inputs, then ctrl+r."


@dataclass
class StepState:
    """What is known of one step while the diagnosis runs."""

    step: Step
    state: str = "pending"
    """``pending``, ``running``, ``waiting``, ``done``, ``failed``, ``skipped``,
    ``stopped`` or ``not run``."""
    started_s: float = 0.0
    duration_s: float | None = None
    detail: str = ""

    @property
    def title(self) -> str:
        """The step's title, or its instruction for a manual step."""
        if self.step.is_manual:
            return f"manual: {self.step.text}"
        return self.step.text or f"probe {self.step.probe}"


class StepList(Widget):
    """Shows every step of a playbook: pending, running, done, failed or skipped.

    A running step shows a spinner, its elapsed seconds and its last progress
    report; a finished one its duration, and its error if it failed.
    """

    DEFAULT_CSS = """
    StepList {
        height: auto;
        padding: 0 1;
    }
    StepList > .step-list--id {
        text-style: bold;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"step-list--id"}
    """
    | Class | Description |
    | :- | :- |
    | `step-list--id` | The id of each step. |
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: dict[str, StepState] = {}
        self.empty_text = ""
        """What the list says when the playbook has no steps."""

    def show_steps(self, steps: tuple[Step, ...], of_case: bool = True) -> None:
        """List the steps of a playbook, all pending.

        Args:
            steps: The playbook's steps.
            of_case: Whether the playbook is a case's, rather than the
                standard probes; an empty one then offers the standard probes.
        """
        self.rows = {step.id: StepState(step) for step in steps}
        self.empty_text = NO_CASE_STEPS if of_case else NO_STANDARD_STEPS
        self.auto_refresh = None
        self.refresh(layout=True)

    def update_step(self, event: StepEvent) -> None:
        """Take a step's start, progress or end from the engine."""
        row = self.rows.get(event.step.id)
        if row is None:
            return
        if event.kind == "started":
            row.step = event.step
            row.state = "waiting" if event.step.is_manual else "running"
            row.started_s = time.monotonic()
        elif event.kind == "progress":
            row.detail = progress_text(event.payload)
        elif event.kind == "finished":
            outcome = event.payload
            row.state, row.duration_s = outcome.status, outcome.duration_s
            row.detail = outcome.error
        self._refresh_while_running()

    def stop_unfinished(self) -> None:
        """Mark what was running as stopped, and what was pending as not run."""
        for row in self.rows.values():
            if row.state in ("running", "waiting"):
                row.state, row.detail = "stopped", ""
            elif row.state == "pending":
                row.state = "not run"
        self._refresh_while_running()

    def state_of(self, step_id: str) -> str:
        """Return the state of one step."""
        return self.rows[step_id].state

    def _refresh_while_running(self) -> None:
        running = any(row.state == "running" for row in self.rows.values())
        self.auto_refresh = REFRESH_S if running else None
        self.refresh(layout=True)

    def render(self) -> Table:
        """Draw one line per step, wrapping long titles and errors."""
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(width=1, no_wrap=True)
        table.add_column(
            no_wrap=True, style=self.get_component_rich_style("step-list--id")
        )
        table.add_column(no_wrap=True)
        table.add_column(ratio=1, overflow="fold")
        for row in self.rows.values():
            table.add_row(*self._cells(row))
        if not self.rows:
            table.add_row("", "", "", Text(self.empty_text, style="bold yellow"))
        return table

    def _cells(self, row: StepState) -> tuple[Text, str, Text, Text]:
        if row.state == "running":
            elapsed_s = time.monotonic() - row.started_s
            frame = SPINNER[int(elapsed_s / REFRESH_S) % len(SPINNER)]
            mark = Text(frame, style="bold cyan")
            state = Text(f"running {elapsed_s:4.1f} s", style="cyan")
        else:
            symbol, style = MARKS[row.state]
            mark = Text(symbol, style=style)
            timing = f" {row.duration_s:.2f} s" if row.duration_s is not None else ""
            state = Text(f"{row.state}{timing}", style=style)
        detail = Text(row.title)
        if row.detail:
            style = "red" if row.state == "failed" else "italic"
            detail.append(f"\n{row.detail}", style=style)
        return mark, row.step.id, state, detail
