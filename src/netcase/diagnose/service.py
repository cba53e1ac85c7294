"""Diagnosis as one service for both faces: prepare, run, mark, verify, report."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from netcase.diagnose.checks import load_playbooks
from netcase.diagnose.engine import AskManual, Diagnosis, DiagnosisEngine, Listener
from netcase.diagnose.inputs import resolve_inputs
from netcase.diagnose.playbook import Playbook, Step
from netcase.diagnose.session import SessionNotFoundError, SessionStore
from netcase.diagnose.templates import PLACEHOLDER
from netcase.diagnose.verdict import measured_subjects, verification_record
from netcase.errors import CaseNotFoundError, ConfigError, NetcaseError
from netcase.kb.catalog import FileProblem
from netcase.kb.service import KnowledgeBase
from netcase.probes.registry import PROBES
from netcase.site import Site


class ActionNotReadyError(NetcaseError):
    """An action whose snippets still hold a placeholder for an input."""

    title = "Action not ready"


STANDARD = "standard-probes"
"""The playbook name used when no case is chosen."""
ACTION_STATES = ("proposed", "applied", "rejected")
TARGET_PARAMS = ("url", "target", "names")
"""The probe parameters that say what to measure; a probe without one cannot run."""


def standard_playbook(site: Site) -> Playbook:
    """The probes to run when the engineer has only a symptom."""
    steps: list[Step] = []
    if site.targets.dns_names and "dns" in PROBES:
        steps.append(Step("dns", "dns", {"names": list(site.targets.dns_names)}))
    if site.targets.latency and "latency" in PROBES:
        steps.append(Step("latency", "latency", {"target": site.targets.latency}))
    return Playbook(STANDARD, steps=tuple(steps))


def check_required_inputs(
    playbook: Playbook, inputs: Mapping[str, str | None], site: Site
) -> None:
    """Refuse a playbook whose probe would lose its target to an empty input.

    Raises:
        ConfigError: Naming the first input without a value that a probe
            step takes whole as its target, unless the site profile supplies
            the target the probe uses in its place.
    """
    for step in playbook.steps:
        for name in _target_inputs(step, site):
            spec = playbook.inputs.get(name)
            if spec is not None and inputs.get(name) is None:
                raise ConfigError(
                    f"The case {playbook.case_id!r} needs the input {name} "
                    f"({spec.prompt}): give it with --set {name}=VALUE."
                )


def _target_inputs(step: Step, site: Site) -> list[str]:
    """Return the inputs a probe step's target parameters consist of, whole."""
    names: list[str] = []
    for param in TARGET_PARAMS:
        value = step.params.get(param)
        if isinstance(value, str) and not _site_target(step.probe, param, site):
            names += _whole_placeholders([value])
        elif isinstance(value, list):
            # A list item without a value is never dropped: the step would fail.
            names += _whole_placeholders(value)
    return names


def _whole_placeholders(values: list[Any]) -> list[str]:
    matches = (PLACEHOLDER.fullmatch(v) for v in values if isinstance(v, str))
    return [match.group(1) for match in matches if match]


def _site_target(probe: str | None, param: str, site: Site) -> bool:
    """True when the probe measures a site target in place of a dropped ``param``."""
    if (probe, param) == ("throughput", "url"):
        return bool(site.targets.throughput)
    if (probe, param) == ("dns", "names"):
        return bool(site.targets.dns_names)
    return False


class DiagnosisService:
    """Runs diagnoses over a knowledge base for one site, and keeps their sessions."""

    def __init__(self, kb: KnowledgeBase, site: Site) -> None:
        self.kb = kb
        self.site = site
        self.sessions = SessionStore(kb.engine)
        self.playbooks: dict[str, Playbook] = {}
        self.problems: list[FileProblem] = []
        self._engine: DiagnosisEngine | None = None

    def prepare(self) -> list[FileProblem]:
        """Read every case's playbook from the catalog (call after ``kb.open()``)."""
        files = self.kb.case_files()
        self.playbooks, self.problems = load_playbooks(files)
        cases = {case.id: case for _path, case in files}
        self._engine = DiagnosisEngine(self.site, cases, self.playbooks, self.sessions)
        return self.problems

    @property
    def engine(self) -> DiagnosisEngine:
        """The engine, prepared on first use."""
        if self._engine is None:
            self.prepare()
        assert self._engine is not None
        return self._engine

    def playbook(self, case_id: str | None) -> Playbook:
        """Return a case's playbook, or the standard probes for None.

        Raises:
            CaseNotFoundError: When the case is unknown or has no playbook.
        """
        if case_id is None:
            return standard_playbook(self.site)
        if case_id not in self.engine.cases:
            raise CaseNotFoundError(
                f"No case with the id {case_id!r}; `netcase search` lists the ids."
            )
        playbook = self.playbooks.get(case_id)
        if playbook is None:
            raise CaseNotFoundError(
                f"The case {case_id!r} has a broken playbook; run `netcase kb check`."
            )
        return playbook

    async def diagnose(
        self,
        case_id: str | None,
        symptom: str,
        given: Mapping[str, str],
        ask: AskManual,
        listener: Listener | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> Diagnosis:
        """Run a case's playbook (or the standard probes) and rank the causes.

        ``on_start`` gets the session's number as soon as it exists.

        Raises:
            ConfigError: For a bad input, or a missing one a probe step needs
                as its target; no session is started then.
        """
        playbook = self.playbook(case_id)
        inputs = resolve_inputs(playbook, given)
        check_required_inputs(playbook, inputs, self.site)
        # Searching reads the index: off the event loop, which may be a screen's.
        hits = (
            await asyncio.to_thread(self.kb.search, symptom, (), 50)
            if symptom.strip()
            else []
        )
        scores = {hit.id: hit.score for hit in hits}
        return await self.engine.run(
            playbook, inputs, ask, symptom, scores, listener, on_start
        )

    def mark_action(
        self, session_id: int, action_id: str, status: str
    ) -> dict[str, Any]:
        """Record that the engineer applied or rejected an action.

        Raises:
            ConfigError: For a status other than proposed, applied or rejected.
            ActionNotReadyError: For "applied" while the card's snippets hold
                a placeholder for one of its case's inputs.
        """
        if status not in ACTION_STATES:
            raise ConfigError(
                f"An action is {', '.join(ACTION_STATES)}; not {status!r}."
            )
        if status == "applied":
            self._refuse_placeholders(session_id, action_id)
        return self.sessions.update_action(session_id, action_id, status=status)

    def _refuse_placeholders(self, session_id: int, action_id: str) -> None:
        """Refuse to record as applied a card whose snippets lack an input's value.

        Raises:
            ActionNotReadyError: Naming the first such input and how to give it.
        """
        row, _steps = self.sessions.load(session_id)
        card = next((c for c in row.actions if c["id"] == action_id), None)
        if card is None:
            return  # update_action says the action is unknown.
        case_id = str(card.get("case", ""))
        playbook = self.engine.playbooks.get(case_id) or Playbook(case_id)
        # A value taken from a finding (an SSID) is not the engineer's to give.
        unfilled = [n for n in card.get("missing", []) if n in playbook.inputs]
        if not unfilled:
            return
        spec = playbook.inputs[unfilled[0]]
        same_case = row.case_id == case_id
        run = (
            f"--set {spec.name}=VALUE"
            if same_case
            else (f"--case {case_id} --set {spec.name}=VALUE")
        )
        form = "the form" if same_case else f"the form of the case {case_id}"
        raise ActionNotReadyError(
            f"The action {action_id!r} still shows <{spec.name}> in its snippets: "
            f"give the input {spec.name} ({spec.prompt}) with {run}, or in {form}, "
            "and run the diagnosis again; then mark the new action applied."
        )

    async def verify(
        self, session_id: int, action_id: str, ask: AskManual
    ) -> dict[str, Any]:
        """Run an applied action's verifying steps again and record the outcome.

        Raises:
            SessionNotFoundError: When the session, action or its case is gone.
            ConfigError: When the site profile is not the session's, or the
                action is not marked applied.
            ActionNotReadyError: When the card's snippets hold a placeholder.
        """
        row, _steps = self.sessions.load(session_id)
        card = next((c for c in row.actions if c["id"] == action_id), None)
        if card is None:
            raise SessionNotFoundError(
                f"Session {session_id} has no action {action_id!r}."
            )
        self._refuse_unverifiable(row.site, session_id, card)
        self._refuse_placeholders(session_id, action_id)
        playbook = self.playbook(card["case"])
        steps = tuple(
            step for step in playbook.steps if step.id in card.get("verify", [])
        )
        check = Playbook(
            f"{playbook.case_id}", playbook.inputs, steps, playbook.evidence, ()
        )
        inputs = {
            key: value for key, value in row.inputs.items() if key in playbook.inputs
        }
        outcome = await self.engine.run(
            check,
            inputs,
            ask,
            f"verify {action_id} of session {session_id}",
            verifies=session_id,
        )
        verification = verification_record(
            outcome.session_id,
            row.findings,
            _trigger_codes(playbook, action_id, row.findings),
            outcome.findings,
            measured_subjects(
                step.result.to_json()
                for step in outcome.steps
                if step.status == "done" and step.result is not None
            ),
            card,
        )
        return self.sessions.update_action(
            session_id, action_id, verification=verification
        )

    def _refuse_unverifiable(
        self, site_name: str, session_id: int, card: dict[str, Any]
    ) -> None:
        """Refuse to verify on another site's profile, or an action not applied.

        Raises:
            ConfigError: Saying which site or which mark the verification needs.
        """
        # A session saved before sites were recorded has no name to compare.
        if site_name and site_name != self.site.name:
            raise ConfigError(
                f"Session {session_id} was diagnosed with the site profile "
                f"{site_name!r}, but the current one is {self.site.name!r}: pass "
                "the same --site FILE (or NETCASE_SITE) to verify it, so that "
                "the same uplinks are measured."
            )
        status = card.get("status", "proposed")
        if status != "applied":
            raise ConfigError(
                f"The action {card['id']!r} is {status}, not applied: mark it "
                f"applied first (netcase action {session_id} {card['id']} applied), "
                "then verify it."
            )


def _trigger_codes(
    playbook: Playbook, action_id: str, findings: list[dict[str, Any]]
) -> set[str]:
    """Return the codes an action's condition names; every saved one if it is gone."""
    spec = next((a for a in playbook.actions if a.id == action_id), None)
    if spec is None:
        return {f["code"] for f in findings}
    return spec.evidence_codes
