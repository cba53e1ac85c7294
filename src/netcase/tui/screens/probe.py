"""The probe screen: pick a probe, fill its fields, watch it run, read its findings."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane

from netcase.errors import NetcaseError
from netcase.site import Site
from netcase.tui.widgets.probe_findings import FindingsList
from netcase.tui.widgets.probe_forms import (
    FORMS,
    FormValueError,
    ProbeForm,
    parse_uplinks,
)
from netcase.tui.widgets.probe_link_views import ThroughputView, WifiView
from netcase.tui.widgets.probe_view import ProbeView
from netcase.tui.widgets.probe_views import DnsView, LatencyView
from netcase.wording import counted

if TYPE_CHECKING:
    from textual.worker import Worker

    from netcase.probes.result import ProbeResult

NO_RUN_YET = "No run yet: results and findings appear here."


@dataclass
class ProbeRun:
    """One run of a probe, from the moment it was asked for."""

    number: int
    probe: str
    params: dict[str, Any]
    started: float = field(default_factory=time.monotonic)

    def elapsed_s(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self.started


class ProbeScreen(Screen[None]):
    """Runs one probe at a time in a worker and shows it live.

    Args:
        site: The site profile whose resolvers, uplinks and thresholds the
            forms start from and the probes use.
    """

    DEFAULT_CSS = """
    ProbeScreen > #probe-picker {
        height: auto;
    }
    ProbeScreen #probe-picker TabPane {
        padding: 0;
    }
    ProbeScreen > #probe-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
        background: $boost;
    }
    ProbeScreen > #probe-status.-running {
        color: $text-accent;
    }
    ProbeScreen > #probe-status.-failed {
        color: $text-error;
    }
    ProbeScreen > #probe-status.-cancelled {
        color: $text-warning;
    }
    ProbeScreen > #probe-results {
        height: 1fr;
    }
    ProbeScreen > #probe-results > #no-run {
        padding: 1;
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "run", "Run"),
        Binding("escape", "cancel", "Cancel"),
        Binding("escape", "back", "Back"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | enter | Run the probe of the selected tab with its fields (also from a field). |
    | escape | Cancel the running probe, keeping what it measured so far. |
    | escape | Go back to the previous screen when no probe is running. |
    """

    class ProgressReported(Message, bubble=False):
        """A running probe reported one step (a lookup, a sample, a second)."""

        def __init__(self, number: int, payload: Any) -> None:
            super().__init__()
            self.number = number
            self.payload = payload

    class ProbeFinished(Message, bubble=False):
        """A probe run ended with its result."""

        def __init__(self, number: int, result: ProbeResult) -> None:
            super().__init__()
            self.number = number
            self.result = result

    class ProbeFailed(Message, bubble=False):
        """A probe run could not go on; the App reports the error itself."""

        def __init__(self, number: int, reason: str) -> None:
            super().__init__()
            self.number = number
            self.reason = reason

    def __init__(self, site: Site) -> None:
        super().__init__()
        self.site = site
        self.runs = 0
        """How many runs were started on this screen."""
        self.live: ProbeRun | None = None
        """The run whose progress is shown, while it runs."""
        self.view: ProbeView | None = None
        """The view of the latest run, kept until the next one."""
        self._worker: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        with TabbedContent(id="probe-picker"):
            for form in FORMS:
                with TabPane(form.title, id=f"pick-{form.probe}"):
                    yield form(self.site, id=f"form-{form.probe}")
        yield Static(self._ready_text(), id="probe-status", markup=False)
        with Vertical(id="probe-results"):
            yield Static(NO_RUN_YET, id="no-run", markup=False)
        yield FindingsList(id="findings")
        yield Footer()

    def _ready_text(self) -> str:
        return f"Site {self.site.name}: pick a probe, fill its fields, Enter runs it."

    @property
    def form(self) -> ProbeForm:
        """The form of the selected tab."""
        pane = self.query_one(TabbedContent).active
        return self.query_one(f"#{pane.replace('pick-', 'form-')}", ProbeForm)

    @property
    def status(self) -> str:
        """The status line's text."""
        return str(self.query_one("#probe-status", Static).content)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Let Escape cancel while a probe runs, and go back otherwise."""
        if action == "cancel":
            return self.live is not None
        if action == "back":
            return self.live is None
        return True

    @on(Input.Submitted)
    async def _field_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        await self.action_run()

    async def action_run(self) -> None:
        """Check the selected form and run its probe, replacing any earlier run."""
        form = self.form
        try:
            params = form.params()
        except FormValueError as error:
            self.notify(
                error.message, title=error.title, severity="error", markup=False
            )
            error.field.focus()
            return

        self.runs += 1
        run = ProbeRun(self.runs, form.probe, params)
        await self._show_view(view_for(run.probe, params, self.site))
        self._start(run)

    async def _show_view(self, view: ProbeView) -> None:
        results = self.query_one("#probe-results")
        await results.remove_children()
        await results.mount(view)
        self.view = view
        self.query_one(FindingsList).hide()

    def _start(self, run: ProbeRun) -> None:
        self.live = run
        self._set_status(f"Running {run.probe}…", "-running")
        # The App runs the worker so that its one failure handler reports errors.
        self._worker = self.app.run_worker(
            self._probe(run),
            name=f"probe {run.probe}",
            group="probe",
            exclusive=True,
            exit_on_error=False,
        )
        self.refresh_bindings()

    async def _probe(self, run: ProbeRun) -> None:
        """Run the probe, posting each progress payload and the outcome."""
        from netcase.probes.registry import PROBES

        def progress(payload: Any) -> None:
            # Posting is safe from any thread, should a probe report from one.
            self.post_message(self.ProgressReported(run.number, payload))

        try:
            result = await PROBES[run.probe].run(run.params, self.site, progress)
        except Exception as error:
            self.post_message(self.ProbeFailed(run.number, _reason(error)))
            raise
        self.post_message(self.ProbeFinished(run.number, result))

    def _is_live(self, number: int) -> bool:
        return self.live is not None and self.live.number == number

    def on_probe_screen_progress_reported(self, message: ProgressReported) -> None:
        """Show one step of the live run; steps of an abandoned run are dropped."""
        if self.live is None or self.view is None or not self._is_live(message.number):
            return
        words = self.view.show_progress(message.payload)
        self._set_status(f"Running {self.live.probe}: {words}", "-running")

    def on_probe_screen_probe_finished(self, message: ProbeFinished) -> None:
        """Show the result and its findings under it."""
        if self.live is None or self.view is None or not self._is_live(message.number):
            return
        result = message.result
        self.view.show_result(result)
        self.query_one(FindingsList).show(result.findings)
        count = len(result.findings)
        self._end(
            f"{result.probe} finished in {result.duration_s:.2f} s: "
            f"{counted(count, 'finding')}.",
            "",
        )

    def on_probe_screen_probe_failed(self, message: ProbeFailed) -> None:
        """Say in the status line why the run stopped."""
        if self.live is not None and self._is_live(message.number):
            self._end(f"{self.live.probe} failed: {message.reason}", "-failed")

    def action_cancel(self) -> None:
        """Cancel the running probe; what it measured so far stays on screen."""
        run = self.live
        if run is None:
            return
        if self._worker is not None:
            self._worker.cancel()
        self._end(
            f"{run.probe} cancelled after {run.elapsed_s():.1f} s; "
            "what arrived before stays above.",
            "-cancelled",
        )

    def action_back(self) -> None:
        """Go back to the screen the probes were opened from."""
        self.app.pop_screen()

    def on_unmount(self) -> None:
        """Stop a run that is still going when the screen goes away."""
        if self.live is not None and self._worker is not None:
            self._worker.cancel()

    def _end(self, text: str, state: str) -> None:
        self.live = None
        self._set_status(text, state)
        self.refresh_bindings()

    def _set_status(self, text: str, state: str) -> None:
        status = self.query_one("#probe-status", Static)
        status.update(text)
        status.set_classes(state)


def view_for(probe: str, params: dict[str, Any], site: Site) -> ProbeView:
    """Return a fresh view for a run of ``probe`` with ``params``."""
    if probe == "dns":
        return DnsView()
    if probe == "latency":
        uplinks = parse_uplinks(" ".join(params.get("uplinks", [])), site)
        return LatencyView(uplinks or site.uplinks, int(params["count"]))
    if probe == "throughput":
        return ThroughputView(float(params["seconds"]))
    return WifiView()


def _reason(error: Exception) -> str:
    if isinstance(error, NetcaseError):
        return error.message
    return f"{type(error).__name__}: {error}"
