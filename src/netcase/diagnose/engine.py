"""Run a playbook: probe steps in parallel between manual steps, recorded as they end."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from netcase.diagnose.actions import (
    TAKES_EVIDENCE,
    ActionCard,
    ActionParamError,
    render_action,
)
from netcase.diagnose.inputs import resolve_inputs
from netcase.diagnose.playbook import Playbook, Step
from netcase.diagnose.ranking import RankedCause, rank_causes
from netcase.diagnose.session import SessionStore, now
from netcase.diagnose.stages import skipped_before_retest, stages
from netcase.diagnose.templates import TemplateError, fill
from netcase.errors import NetcaseError
from netcase.kb.case import Case
from netcase.probes.findings import UPLINK_TROUBLE, Finding
from netcase.probes.registry import PROBES, ProbeSpec
from netcase.probes.result import ProbeResult
from netcase.site import Site
from netcase.store import StepRow

log = logging.getLogger(__name__)

AskManual = Callable[[Step], Awaitable[bool]]
"""Shows a manual step to a person; returns True when done, False when skipped."""


@dataclass
class StepOutcome:
    """What one step did."""

    step: Step
    status: str
    started: datetime
    duration_s: float = 0.0
    result: ProbeResult | None = None
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the step in the CLI's JSON shape."""
        return {
            "id": self.step.id,
            "kind": "manual" if self.step.is_manual else "probe",
            "probe": self.step.probe,
            "status": self.status,
            "duration_s": round(self.duration_s, 4),
            "result": self.result.to_json() if self.result else None,
            "error": self.error,
        }


@dataclass
class Diagnosis:
    """The outcome of a diagnosis: steps, findings, causes and actions."""

    session_id: int
    case_id: str | None
    steps: list[StepOutcome] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    causes: list[RankedCause] = field(default_factory=list)
    ruled_out: list[str] = field(default_factory=list)
    actions: list[ActionCard] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the diagnosis in the CLI's JSON shape."""
        return {
            "session": self.session_id,
            "case": self.case_id,
            "steps": [outcome.to_json() for outcome in self.steps],
            "findings": [finding.to_json() for finding in self.findings],
            "causes": [cause.to_json() for cause in self.causes],
            "ruled_out": self.ruled_out,
            "actions": [card.to_json() for card in self.actions],
        }


@dataclass
class StepEvent:
    """A step started, reported progress, or ended; for live screens."""

    step: Step
    kind: str
    """``started``, ``progress`` or ``finished``."""
    payload: Any = None


Listener = Callable[[StepEvent], None]


class DiagnosisEngine:
    """Runs playbooks against a site and ranks the knowledge base's cases."""

    def __init__(
        self,
        site: Site,
        cases: Mapping[str, Case],
        playbooks: Mapping[str, Playbook],
        sessions: SessionStore,
        probes: Mapping[str, ProbeSpec] = PROBES,
    ) -> None:
        self.site = site
        self.cases = cases
        self.playbooks = playbooks
        self.sessions = sessions
        self.probes = probes

    async def run(
        self,
        playbook: Playbook,
        inputs: Mapping[str, str | None],
        ask: AskManual,
        symptom: str = "",
        symptom_scores: Mapping[str, float] | None = None,
        listener: Listener | None = None,
        on_start: Callable[[int], None] | None = None,
        verifies: int | None = None,
    ) -> Diagnosis:
        """Run every step, then rank causes and propose actions.

        Each step is saved when it ends; a cancelled run is marked interrupted
        and keeps what it measured. ``on_start`` gets the new session's number;
        ``verifies`` names the session whose action this run checks.
        """
        case_id = playbook.case_id if playbook.case_id in self.cases else None
        session_id = self.sessions.start(
            self.site.name, case_id, symptom, dict(inputs), verifies
        )
        if on_start is not None:
            on_start(session_id)
        diagnosis = Diagnosis(session_id, case_id)
        try:
            await self._run_steps(
                playbook, inputs, ask, diagnosis, listener or (lambda event: None)
            )
        except BaseException:
            self.sessions.interrupt(session_id)
            raise

        self._conclude(playbook, inputs, diagnosis, symptom_scores or {})
        self.sessions.finish(
            session_id,
            [f.to_json() for f in diagnosis.findings],
            [c.to_json() for c in diagnosis.causes],
            diagnosis.ruled_out,
            [a.to_json() for a in diagnosis.actions],
        )
        return diagnosis

    async def _run_steps(
        self,
        playbook: Playbook,
        inputs: Mapping[str, str | None],
        ask: AskManual,
        diagnosis: Diagnosis,
        listener: Listener,
    ) -> None:
        for stage in stages(playbook.steps):
            if stage[0].is_manual:
                outcome = await self._manual(stage[0], inputs, ask, listener)
                self._record(diagnosis, playbook, outcome)
                continue
            skipped_ids = {
                o.step.id
                for o in diagnosis.steps
                if o.step.is_manual and o.status == "skipped"
            }
            runnable = []
            for step in stage:
                skipped = skipped_before_retest(playbook, step, skipped_ids)
                if skipped is None:
                    runnable.append(step)
                    continue
                outcome = _retest_skipped(step, skipped)
                listener(StepEvent(step, "finished", outcome))
                self._record(diagnosis, playbook, outcome)
            tasks = [
                asyncio.create_task(self._probe(step, inputs, listener))
                for step in runnable
            ]
            try:
                for finished in asyncio.as_completed(tasks):
                    self._record(diagnosis, playbook, await finished)
            finally:
                for task in tasks:
                    task.cancel()

    async def _manual(
        self,
        step: Step,
        inputs: Mapping[str, str | None],
        ask: AskManual,
        listener: Listener,
    ) -> StepOutcome:
        started, clock = now(), time.perf_counter()
        context = _context(inputs, self.site, [])
        shown = replace(
            step,
            text=fill(step.text, context, missing="mark"),
            text_zh=fill(step.text_zh, context, missing="mark"),
        )
        listener(StepEvent(shown, "started"))
        done = await ask(shown)
        outcome = StepOutcome(
            step, "done" if done else "skipped", started, time.perf_counter() - clock
        )
        listener(StepEvent(shown, "finished", outcome))
        return outcome

    async def _probe(
        self, step: Step, inputs: Mapping[str, str | None], listener: Listener
    ) -> StepOutcome:
        started, clock = now(), time.perf_counter()
        listener(StepEvent(step, "started"))
        spec = self.probes[step.probe or ""]
        try:
            params = fill(step.params, _context(inputs, self.site, []), missing="drop")
            result = await spec.run(
                params,
                self.site,
                lambda payload: listener(StepEvent(step, "progress", payload)),
            )
            unmeasured = nothing_measured(result)
            outcome = StepOutcome(
                step,
                "failed" if unmeasured else "done",
                started,
                time.perf_counter() - clock,
                result,
                unmeasured,
            )
        except NetcaseError as exc:
            outcome = StepOutcome(
                step, "failed", started, time.perf_counter() - clock, error=exc.message
            )
        except (OSError, ValueError) as exc:
            outcome = StepOutcome(
                step, "failed", started, time.perf_counter() - clock, error=str(exc)
            )
        log.info(
            "step %s (%s): %s in %.2f s",
            step.id,
            step.probe,
            outcome.status,
            outcome.duration_s,
        )
        listener(StepEvent(step, "finished", outcome))
        return outcome

    def _record(
        self, diagnosis: Diagnosis, playbook: Playbook, outcome: StepOutcome
    ) -> None:
        """Keep a finished step: compare a re-test with its original, then save."""
        if outcome.status == "done" and outcome.step.retest_of:
            before = next(
                (o for o in diagnosis.steps if o.step.id == outcome.step.retest_of),
                None,
            )
            spec = self.probes[outcome.step.probe or ""]
            if (
                before is not None
                and before.status == "done"
                and before.result is not None
                and outcome.result is not None
                and spec.compare is not None
            ):
                outcome.result.findings.extend(
                    spec.compare(before.result, outcome.result, self.site)
                )
        diagnosis.steps.append(outcome)
        # In playbook order, whichever step of a stage ended first.
        diagnosis.findings = [
            finding
            for done in sorted(
                diagnosis.steps, key=lambda o: playbook.steps.index(o.step)
            )
            if done.result is not None
            for finding in done.result.findings
        ]
        self.sessions.record_step(
            diagnosis.session_id,
            StepRow(
                session_id=diagnosis.session_id,
                position=playbook.steps.index(outcome.step),
                step_id=outcome.step.id,
                kind="manual" if outcome.step.is_manual else "probe",
                status=outcome.status,
                started=outcome.started,
                duration_s=outcome.duration_s,
                result=outcome.result.to_json() if outcome.result else None,
                error=outcome.error,
            ),
        )

    def _conclude(
        self,
        playbook: Playbook,
        inputs: Mapping[str, str | None],
        diagnosis: Diagnosis,
        symptom_scores: Mapping[str, float],
    ) -> None:
        diagnosis.causes, diagnosis.ruled_out = rank_causes(
            self.cases,
            self.playbooks,
            diagnosis.findings,
            symptom_scores,
            diagnosis.case_id,
        )
        codes = {f.code for f in diagnosis.findings}
        for cause in diagnosis.causes:
            if cause.ruled_out or not (
                cause.evidence_score > 0 or cause.case_id == diagnosis.case_id
            ):
                continue
            case_playbook = self.playbooks.get(cause.case_id)
            if case_playbook is None:
                continue
            case_inputs = (
                inputs
                if case_playbook is playbook
                else resolve_inputs(case_playbook, {})
            )
            diagnosis.actions.extend(
                self._cards(case_playbook, case_inputs, diagnosis, codes)
            )

    def _cards(
        self,
        playbook: Playbook,
        inputs: Mapping[str, str | None],
        diagnosis: Diagnosis,
        codes: set[str],
    ) -> list[ActionCard]:
        cards: list[ActionCard] = []
        context = _context(inputs, self.site, diagnosis.findings)
        for spec in playbook.actions:
            if not spec.holds(codes) or any(
                card.id == spec.id for card in diagnosis.actions
            ):
                continue
            evidence = [f for f in diagnosis.findings if f.code in spec.evidence_codes]
            try:
                params = fill(spec.params, context, missing="drop")
                if spec.kind in TAKES_EVIDENCE and "evidence" not in params:
                    params["evidence"] = _measured(diagnosis, spec.evidence_codes)
                rendered = render_action(spec.kind, params, self.site)
            except (TemplateError, ActionParamError) as exc:
                # Only the diagnosed case's inputs could have been given; another
                # case's action that needs its own inputs is left out quietly.
                own = playbook.case_id == diagnosis.case_id
                log.log(
                    logging.WARNING if own else logging.INFO,
                    "action %s of %s not proposed: %s",
                    spec.id,
                    playbook.case_id,
                    exc.message,
                )
                continue
            cards.append(
                ActionCard(
                    id=spec.id,
                    kind=spec.kind,
                    case_id=playbook.case_id,
                    summary=str(fill(spec.text, context, missing="mark")),
                    summary_zh=str(fill(spec.text_zh, context, missing="mark")),
                    reason="; ".join(dict.fromkeys(f.summary for f in evidence)),
                    params=params,
                    snippets=rendered.snippets,
                    notice=rendered.notice,
                    scope=rendered.scope,
                    risk=rendered.risk,
                    rollback=rendered.rollback,
                    verify=_verifying_steps(diagnosis, spec.evidence_codes),
                    missing=rendered.missing,
                )
            )
        return cards


def nothing_measured(result: ProbeResult) -> str:
    """Return why a probe result measured nothing, or "" when it measured something.

    A result measured nothing when it states no finding and every item of its
    measurement lists that can carry an error (a throughput run, a latency
    uplink, a DNS lookup, a clock reading) does: the probe ran, but could not
    reach anything to measure. The command line exits 3 for the same runs.
    """
    if result.findings:
        return ""
    items = [
        item
        for value in result.measurements.values()
        if isinstance(value, list)
        for item in value
        if isinstance(item, dict) and "error" in item
    ]
    if not items or not all(item["error"] for item in items):
        return ""
    return " ".join(dict.fromkeys(str(item["error"]) for item in items))


def _retest_skipped(step: Step, manual: Step) -> StepOutcome:
    reason = f"not run: the manual step {manual.id} it re-tests after was skipped"
    log.info("step %s (%s): %s", step.id, step.probe, reason)
    return StepOutcome(step, "skipped", now(), error=reason)


def _context(
    inputs: Mapping[str, str | None], site: Site, findings: list[Finding]
) -> dict[str, Any]:
    """Values ``{name}`` may look up: inputs, site values, findings' data."""
    context: dict[str, Any] = {"site.name": site.name, "site.router": site.router}
    # The first finding of a code gives its values, but an uplink another step
    # found degraded is never the one to move a user to.
    troubled = {
        finding.data.get("uplink")
        for finding in findings
        if finding.code in UPLINK_TROUBLE
    }
    findings = sorted(
        findings,
        key=lambda f: f.code == "uplink.best" and f.data.get("uplink") in troubled,
    )
    for finding in reversed(findings):
        context.update(
            {f"{finding.code}.{key}": value for key, value in finding.data.items()}
        )
    context.update({name: value for name, value in inputs.items() if value is not None})
    return context


def _measured(diagnosis: Diagnosis, codes: set[str]) -> list[str]:
    """Return every finding's summary of the steps that found any of ``codes``."""
    summaries = [
        finding.summary
        for outcome in diagnosis.steps
        if outcome.result is not None and outcome.result.codes() & codes
        for finding in outcome.result.findings
    ]
    return list(dict.fromkeys(summaries))


def _verifying_steps(diagnosis: Diagnosis, codes: set[str]) -> list[str]:
    """Return the probe steps whose findings an action relies on."""
    return [
        outcome.step.id
        for outcome in diagnosis.steps
        if outcome.result is not None and outcome.result.codes() & codes
    ]
