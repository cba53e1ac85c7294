"""Rank cases by the findings of a diagnosis and by the symptom's text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from netcase.diagnose.playbook import Playbook
from netcase.kb.case import Case
from netcase.probes.findings import Finding

SYMPTOM_WEIGHT = 2.0
"""The most the symptom's text adds to a case's score (its best search hit)."""
CHOSEN_CASE_BONUS = 1.0
"""What the case the engineer chose gets for having been chosen."""


@dataclass
class RankedCause:
    """A case as a possible cause, with the evidence for and against it."""

    case_id: str
    title: str
    title_zh: str
    score: float
    evidence_score: float
    symptom_score: float
    supports: list[Finding] = field(default_factory=list)
    against: list[Finding] = field(default_factory=list)
    cause: str = ""

    @property
    def ruled_out(self) -> bool:
        """True when a finding rules this case out."""
        return bool(self.against)

    def to_json(self) -> dict[str, Any]:
        """Return the cause in the CLI's JSON shape."""
        return {
            "case": self.case_id,
            "title": self.title,
            "score": round(self.score, 3),
            "evidence_score": round(self.evidence_score, 3),
            "symptom_score": round(self.symptom_score, 3),
            "ruled_out": self.ruled_out,
            "for": [f"{f.code}: {f.summary}" for f in self.supports],
            "against": [f"{f.code}: {f.summary}" for f in self.against],
        }


def rank_causes(
    cases: Mapping[str, Case],
    playbooks: Mapping[str, Playbook],
    findings: list[Finding],
    symptom_scores: Mapping[str, float],
    chosen: str | None = None,
) -> tuple[list[RankedCause], list[str]]:
    """Score every case and say what the findings rule out.

    Supporting codes add their weights, the symptom's search score adds up
    to :data:`SYMPTOM_WEIGHT`, and a ruling-out code sends a case to the
    bottom unless a supporting code of the same probe family is present too.
    Cases with nothing for them are left out.

    Returns:
        The causes, best first, and one sentence per ruled-out case.
    """
    best_text = max(symptom_scores.values(), default=0.0) or 1.0
    causes: list[RankedCause] = []
    for case_id, case in cases.items():
        cause = _score(case, playbooks.get(case_id), findings)
        cause.symptom_score = (
            SYMPTOM_WEIGHT * symptom_scores.get(case_id, 0.0) / best_text
        )
        bonus = CHOSEN_CASE_BONUS if case_id == chosen else 0.0
        cause.score = cause.evidence_score + cause.symptom_score + bonus
        if cause.score > 0 or cause.ruled_out or case_id == chosen:
            causes.append(cause)

    causes.sort(key=lambda c: (not c.ruled_out, c.score), reverse=True)
    statements = [_ruled_out_statement(c) for c in causes if c.ruled_out]
    return causes, statements


def _score(
    case: Case, playbook: Playbook | None, findings: list[Finding]
) -> RankedCause:
    evidence = playbook.evidence if playbook else None
    supports = [f for f in findings if evidence and f.code in evidence.supports]
    # Mixed answers of one probe (one name split, another consistent) do not
    # rule a case out: its own family's support weighs against the rule.
    supported = {f.code.split(".")[0] for f in supports}
    against = [
        f
        for f in findings
        if evidence
        and f.code in evidence.rules_out
        and f.code.split(".")[0] not in supported
    ]
    weight = (
        sum(evidence.supports[code] for code in {f.code for f in supports})
        if evidence
        else 0.0
    )
    return RankedCause(
        case_id=case.id,
        title=case.title,
        title_zh=case.title_zh,
        score=0.0,
        evidence_score=weight,
        symptom_score=0.0,
        supports=supports,
        against=against,
        cause=(evidence.cause if evidence and evidence.cause else case.title),
    )


def _ruled_out_statement(cause: RankedCause) -> str:
    reasons = list(dict.fromkeys(f.summary for f in cause.against))
    more = f" (and {len(reasons) - 2} more)" if len(reasons) > 2 else ""
    return f"{cause.cause} is not the cause: {'; '.join(reasons[:2])}{more}"
