"""The action cards of one diagnosis, and the record of what the engineer did with them."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import on
from textual.containers import Vertical
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from netcase.diagnose.report import verification_text
from netcase.errors import NetcaseError
from netcase.tui.widgets.action_card import ActionCardView
from netcase.tui.widgets.diag_service import notify_failure

if TYPE_CHECKING:
    from netcase.diagnose.engine import AskManual, Diagnosis
    from netcase.diagnose.service import DiagnosisService


class ActionsPanel(Vertical):
    """Shows the proposed actions as cards and saves their marks and verifications."""

    DEFAULT_CSS = """
    ActionsPanel {
        height: auto;
    }
    ActionsPanel > .diag-heading {
        padding: 0 1;
        margin-top: 1;
        text-style: bold underline;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.service: DiagnosisService | None = None
        self.diagnosis: Diagnosis | None = None
        self.ask: AskManual | None = None

    async def show(
        self, service: DiagnosisService, diagnosis: Diagnosis, ask: AskManual
    ) -> list[ActionCardView]:
        """Show the cards of ``diagnosis``; ``ask`` answers manual steps of a check."""
        self.service, self.diagnosis, self.ask = service, diagnosis, ask
        router = service.site.router
        cards = [ActionCardView(card, router) for card in diagnosis.actions]
        heading = "Actions / 处理建议" + ("" if cards else ": none proposed")
        await self.remove_children()
        await self.mount(Static(heading, classes="diag-heading", markup=False))
        await self.mount_all(cards)
        return cards

    def clear(self) -> None:
        """Remove every card, before another run."""
        self.diagnosis = None
        self.remove_children()

    @on(ActionCardView.MarkRequested)
    def _mark_requested(self, message: ActionCardView.MarkRequested) -> None:
        self.run_worker(
            self._mark(message.view, message.status), group="mark", exit_on_error=False
        )

    async def _mark(self, view: ActionCardView, status: str) -> None:
        assert self.service is not None and self.diagnosis is not None
        session_id = self.diagnosis.session_id
        try:
            saved = await asyncio.to_thread(
                self.service.mark_action, session_id, view.card.id, status
            )
        except NetcaseError as exc:
            self._refused(exc)
            return
        view.card.status = saved["status"]
        view.redraw()
        self.notify(f"{view.card.id}: {status} (session {session_id}).")

    def _refused(self, exc: NetcaseError) -> None:
        """Show a refusal (another site, not applied, a placeholder) as a warning."""
        self.notify(
            exc.message, title=exc.title, severity="warning", timeout=20, markup=False
        )

    @on(ActionCardView.VerifyRequested)
    def _verify_requested(self, message: ActionCardView.VerifyRequested) -> None:
        if not message.view.verifying:
            self.run_worker(
                self._verify(message.view), group="verify", exit_on_error=False
            )

    async def _verify(self, view: ActionCardView) -> None:
        assert self.service is not None and self.diagnosis is not None
        assert self.ask is not None
        view.verifying = True
        view.redraw()
        try:
            saved = await self.service.verify(
                self.diagnosis.session_id, view.card.id, self.ask
            )
        except NetcaseError as exc:
            self._refused(exc)
            return
        finally:
            view.verifying = False
            view.redraw()
        view.verification = saved.get("verification")
        view.redraw()
        if view.verification is not None:
            text = verification_text(view.verification)
            cleared = view.verification.get("verdict") == "cleared"
            self.notify(
                f"Verified {view.card.id}: {text}.",
                severity="information" if cleared else "warning",
                markup=False,
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn a failed mark or verification into an error notification."""
        if event.state == WorkerState.ERROR:
            notify_failure(self, event.worker.error)
