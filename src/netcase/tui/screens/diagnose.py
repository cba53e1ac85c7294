"""The diagnosis screen: fill a playbook's inputs, run it live, read the conclusions.

The diagnosis runs in an async worker on the App's event loop: probe steps
are async, a manual step awaits its dialog, and the session is written by the
engine as each step ends. Disk reads and writes of the screen itself go
through threads.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import HorizontalGroup, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Static
from textual.worker import Worker, WorkerState

from netcase.errors import ConfigError
from netcase.tui.screens.manual import ManualStepDialog
from netcase.tui.widgets.action_card import ActionCardView
from netcase.tui.widgets.diag_actions import ActionsPanel
from netcase.tui.widgets.diag_form import InputsForm
from netcase.tui.widgets.diag_service import diagnosis_service, notify_failure
from netcase.tui.widgets.diag_steps import StepList, ready_text
from netcase.tui.widgets.diag_summary import DiagnosisSummary
from netcase.wording import counted

if TYPE_CHECKING:
    from netcase.diagnose.engine import Diagnosis, StepEvent
    from netcase.diagnose.playbook import Playbook, Step
    from netcase.diagnose.service import DiagnosisService
    from netcase.kb.service import KnowledgeBase


class DiagnoseScreen(Screen[None]):
    """Runs a case's playbook, or the standard probes, and shows what it found.

    Args:
        kb: The open knowledge base.
        case_id: The case whose playbook runs; None runs the standard probes.
        symptom: What the user reported, to rank the cases by as well.
    """

    DEFAULT_CSS = """
    DiagnoseScreen #diag-title {
        height: auto;
        padding: 0 1;
        background: $boost;
        text-style: bold;
    }
    DiagnoseScreen #diag-body {
        height: 1fr;
    }
    DiagnoseScreen #diag-buttons Button {
        margin: 1 1 0 1;
    }
    DiagnoseScreen #diag-standard {
        display: none;
    }
    DiagnoseScreen .diag-heading {
        padding: 0 1;
        margin-top: 1;
        text-style: bold underline;
    }
    DiagnoseScreen #diag-status {
        margin-top: 1;
        padding: 0 1;
        color: $text-accent;
    }
    DiagnoseScreen #diag-summary {
        display: none;
        margin-top: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run", "Run"),
        Binding("ctrl+r", "run_quietly", "Run", show=False),
        Binding("escape", "stop", "Stop"),
        Binding("escape", "back", "Back"),
        Binding("ctrl+t", "show_standard", "Standard probes"),
        Binding("ctrl+t", "show_case", "Case playbook"),
        Binding("ctrl+t", "switch_quietly", "Switch playbook", show=False),
    ]
    """
    While an action card has focus, the footer gives its room to the card's
    keys: ctrl+r and ctrl+t still work but are not shown (the ``*_quietly``
    bindings).

    | Key(s) | Description |
    | :- | :- |
    | ctrl+r | Run the playbook with the inputs as filled in. |
    | escape | While running: stop; the session keeps what was measured. |
    | escape | Otherwise: go back to the screen this one was opened from. |
    | ctrl+t | On a case's playbook: show the standard probes instead. |
    | ctrl+t | On the standard probes, opened for a case: show its playbook again. |
    """

    class StepChanged(Message):
        """A step of the running diagnosis started, made progress or ended."""

        def __init__(self, event: StepEvent) -> None:
            super().__init__()
            self.event = event

    def __init__(
        self, kb: KnowledgeBase, case_id: str | None, symptom: str = ""
    ) -> None:
        super().__init__()
        self.kb = kb
        self.case_id = case_id
        """The case whose playbook is shown; None for the standard probes."""
        self.chosen_case = case_id
        """The case the screen was opened for."""
        self.symptom = symptom
        self.service: DiagnosisService | None = None
        self.playbook: Playbook | None = None
        self.diagnosis: Diagnosis | None = None
        """The last finished diagnosis."""
        self.running = False
        self._session_id: int | None = None
        self._run_worker: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        name = self.case_id or "standard probes"
        yield Static(Text(f"Diagnose: {name}"), id="diag-title")
        with VerticalScroll(id="diag-body"):
            yield Static("Reading the playbook…", id="diag-form-slot", markup=False)
            with HorizontalGroup(id="diag-buttons"):
                yield Button(
                    "Run  (ctrl+r)", id="diag-run", compact=True, disabled=True
                )
                yield Button(
                    "Standard probes  (ctrl+t)", id="diag-standard", compact=True
                )
            yield Static("Steps / 步骤", classes="diag-heading", markup=False)
            yield StepList(id="diag-steps")
            yield Static("", id="diag-status", markup=False)
            yield DiagnosisSummary(id="diag-summary")
            yield ActionsPanel(id="diag-actions")
        yield Footer()

    @property
    def steps(self) -> StepList:
        """The live list of steps."""
        return self.query_one(StepList)

    def on_mount(self) -> None:
        """Read the playbook off the event loop, then show its form."""
        self.run_worker(
            self._prepare(), name="read playbook", group="prepare", exit_on_error=False
        )

    async def _prepare(self) -> None:
        service, playbook, title = await asyncio.to_thread(
            self._read_playbook, self.case_id
        )
        self.service, self.playbook = service, playbook
        self.query_one("#diag-title", Static).update(
            Text(f"Diagnose: {self.case_id or 'standard probes'}  {title}")
        )
        forms = self.query(InputsForm)
        symptom = forms.first().symptom_value() if forms else self.symptom
        await self.query("#diag-form-slot, #diag-form").remove()
        form = InputsForm(playbook, symptom, id="diag-form")
        await self.query_one("#diag-body").mount(form, before=0)
        self._clear_results()
        self.query_one("#diag-run", Button).disabled = False
        self.query_one("#diag-standard").display = self._lacks_steps(playbook)
        self._set_status(ready_text(playbook.steps, self.case_id is not None))
        self.refresh_bindings()
        form.focus_first()

    def _read_playbook(
        self, case_id: str | None
    ) -> tuple[DiagnosisService, Playbook, str]:
        service = self.service or diagnosis_service(self.app, self.kb)
        if self.service is None:
            service.prepare()
        playbook = service.playbook(case_id)
        case = service.engine.cases.get(case_id or "")
        if case is None:
            return service, playbook, "(cases ranked by what the probes find)"
        return service, playbook, case.title

    def _lacks_steps(self, playbook: Playbook) -> bool:
        """True when the shown playbook is a case's and it has nothing to run."""
        return self.case_id is not None and not playbook.steps

    def _set_status(self, text: str) -> None:
        self.query_one("#diag-status", Static).update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer Stop while running and Back otherwise; Run once the form is shown.

        While a card has focus, Run and the playbook switch move to their
        unshown bindings.
        """
        quiet = {"run_quietly": "run", "switch_quietly": self._switch_action()}
        on_card = isinstance(self.focused, ActionCardView)
        if action in quiet:
            return self._action_state(quiet[action]) if on_card else False
        if on_card and action in ("run", "show_standard", "show_case"):
            return False
        return self._action_state(action)

    def _action_state(self, action: str) -> bool | None:
        """Whether an action is offered (True), dimmed (None) or hidden (False)."""
        if action == "stop":
            return self.running
        if action == "back":
            return not self.running
        if action == "run":
            return None if self.running or self.playbook is None else True
        if action == "show_standard":
            return self._switch_state(self.case_id is not None)
        if action == "show_case":
            return self._switch_state(self.chosen_case is not None and not self.case_id)
        return True

    def _switch_action(self) -> str:
        """The playbook switch ctrl+t makes now."""
        return "show_standard" if self.case_id is not None else "show_case"

    def action_run_quietly(self) -> None:
        """Run, from an action card (the footer shows the card's keys)."""
        self.action_run()

    def action_switch_quietly(self) -> None:
        """Switch the playbook, from an action card."""
        if self.case_id is not None:
            self.action_show_standard()
        else:
            self.action_show_case()

    def _switch_state(self, offered: bool) -> bool | None:
        """Hide a playbook switch that does not apply; dim it while busy."""
        if not offered:
            return False
        return None if self.running or self.playbook is None else True

    @on(Button.Pressed, "#diag-standard")
    def _standard_pressed(self) -> None:
        self.action_show_standard()

    def action_show_standard(self) -> None:
        """Show the standard probes instead of the case's playbook."""
        if self.case_id is not None:
            self._switch_playbook(None)

    def action_show_case(self) -> None:
        """Show the case's playbook again instead of the standard probes."""
        if self.case_id is None and self.chosen_case is not None:
            self._switch_playbook(self.chosen_case)

    def _switch_playbook(self, case_id: str | None) -> None:
        if self.running or self.playbook is None:
            return
        self.case_id = case_id
        self.playbook = None
        self.refresh_bindings()
        self.run_worker(
            self._prepare(), name="read playbook", group="prepare", exit_on_error=False
        )

    @on(Button.Pressed, "#diag-run")
    @on(Input.Submitted)
    def _run_requested(self) -> None:
        self.action_run()

    def action_run(self) -> None:
        """Check the inputs, then run the playbook in a worker."""
        if self.running or self.playbook is None or self.service is None:
            return
        form = self.query_one(InputsForm)
        given = form.values()
        if not self._inputs_valid(form, given):
            return

        self._clear_results()
        self.running = True
        self.refresh_bindings()
        self.query_one("#diag-run", Button).disabled = True
        self._set_status("Running… Escape stops; what was measured is kept.")
        self.steps.scroll_visible(animate=False)
        self._run_worker = self.run_worker(
            self._diagnose(self.service, given, form.symptom_value()),
            name="diagnose",
            group="diagnose",
            exclusive=True,
            exit_on_error=False,
        )

    def _inputs_valid(self, form: InputsForm, given: dict[str, str]) -> bool:
        """Check every filled-in value; notify about each bad one and keep them all."""
        # The engine module loads SQLAlchemy; by now the playbook read has loaded it.
        from netcase.diagnose.inputs import resolve_inputs

        assert self.playbook is not None
        bad: dict[str, str] = {}
        for name, value in given.items():
            try:
                resolve_inputs(self.playbook, {name: value})
            except ConfigError as exc:
                bad[name] = exc.message
        form.mark_invalid(set(bad))
        for message in bad.values():
            self.notify(message, title="Bad input", severity="error", markup=False)
        if bad:
            form.focus_field(next(iter(bad)))
        return not bad

    def _clear_results(self) -> None:
        self.diagnosis = None
        assert self.playbook is not None
        self.steps.show_steps(self.playbook.steps, self.case_id is not None)
        self.query_one(DiagnosisSummary).display = False
        self.query_one(ActionsPanel).clear()

    async def _diagnose(
        self, service: DiagnosisService, given: dict[str, str], symptom: str
    ) -> None:
        started_s = time.monotonic()
        try:
            diagnosis = await service.diagnose(
                self.case_id,
                symptom,
                given,
                self._ask,
                self._step_changed,
                on_start=self._note_session,
            )
        except asyncio.CancelledError:
            if self.is_attached:
                self._stopped()
            raise
        finally:
            self.running = False
            if self.is_attached:
                self.refresh_bindings()
                self.query_one("#diag-run", Button).disabled = False
        await self._show_results(diagnosis, time.monotonic() - started_s)

    def _step_changed(self, event: StepEvent) -> None:
        self.post_message(self.StepChanged(event))

    def on_diagnose_screen_step_changed(self, message: StepChanged) -> None:
        """Show a step's new state."""
        self.steps.update_step(message.event)

    async def _ask(self, step: Step) -> bool:
        """Show a manual step and wait for the engineer's answer."""
        dialog = ManualStepDialog(step)
        try:
            done = await self.app.push_screen(dialog, wait_for_dismiss=True)
        except asyncio.CancelledError:
            if dialog.is_current:
                self.app.pop_screen()
            raise
        if done is None:
            raise asyncio.CancelledError
        return done

    def action_stop(self) -> None:
        """Stop the running diagnosis; the engine marks its session interrupted."""
        if self._run_worker is not None:
            self._run_worker.cancel()

    def action_back(self) -> None:
        """Go back to the screen this one was opened from."""
        self.app.pop_screen()

    def _note_session(self, session_id: int) -> None:
        self._session_id = session_id

    def _stopped(self) -> None:
        self.steps.stop_unfinished()
        self._set_status("Stopped: the session is kept as interrupted.")
        if self._session_id is not None:
            self.run_worker(
                self._name_interrupted(self._session_id),
                name="find session",
                exit_on_error=False,
            )

    async def _name_interrupted(self, session_id: int) -> None:
        """Say which session the stopped run left, and how many steps it kept."""
        assert self.service is not None
        row, kept = await asyncio.to_thread(self.service.sessions.load, session_id)
        self._set_status(
            f"Stopped: session {session_id} is kept as {row.status} with "
            f"{counted(len(kept), 'measured step')} (F5 on the search screen lists it)."
        )
        self.query_one("#diag-status").scroll_visible(animate=False)

    async def _show_results(self, diagnosis: Diagnosis, elapsed_s: float) -> None:
        self.diagnosis = diagnosis
        self._set_status(
            f"Session {diagnosis.session_id} finished in {elapsed_s:.1f} s: "
            f"{counted(len(diagnosis.findings), 'finding')}, "
            f"{counted(len(diagnosis.causes), 'cause')} ranked, "
            f"{counted(len(diagnosis.actions), 'action')}."
        )
        summary = self.query_one(DiagnosisSummary)
        summary.show(diagnosis)
        summary.display = True

        assert self.service is not None
        panel = self.query_one(ActionsPanel)
        cards = await panel.show(self.service, diagnosis, self._ask)
        shown = cards[0] if cards else self.query_one("#diag-status")
        if cards:
            cards[0].focus(scroll_visible=False)
        self.call_after_refresh(self._scroll_to_top, shown)

    def _scroll_to_top(self, widget: Widget) -> None:
        body = self.query_one("#diag-body", VerticalScroll)
        body.scroll_to_widget(widget, animate=False, top=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn a failed worker into an error notification."""
        if event.state != WorkerState.ERROR:
            return
        if event.worker.group == "diagnose":
            self.steps.stop_unfinished()
            self._set_status(
                "The diagnosis failed; the session keeps what was measured."
            )
        if event.worker.group == "prepare":
            self._set_status("No playbook to run: see the error; Escape goes back.")
        notify_failure(self, event.worker.error)
