"""The verdict of a verification: are the findings that called for an action gone?"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from netcase.probes.findings import UPLINK_TROUBLE, Finding, Severity

IDENTITY_KEYS = ("uplink", "name", "type", "resolver", "container", "path")
"""Data keys that say what a finding is about; a finding about another uplink
or name is a different fault, not the one the action was for."""
SUBJECT_KEYS = ("uplink", "name", "container")
"""Data keys naming a thing a probe measures; a verification that did not
measure that thing cannot say whether its fault is gone."""
CLEARED, NOT_YET, CANNOT_TELL = "cleared", "not yet", "cannot tell"


def verification_record(
    session_id: int,
    before: Iterable[dict[str, Any]],
    triggers: set[str],
    after: list[Finding],
    measured: set[str],
    card: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return what a verification found and whether the action's cause is gone.

    The rule depends on the action's kind:

    - ``switch_line`` moved the user to ``params.to_uplink``; the line they
      left keeps its loss, so only the target counts. The verdict is
      ``cleared`` when the target uplink was measured and no uplink trouble
      finding (``UPLINK_TROUBLE``: down, loss, slow, handshake slow or
      failed) names it, ``not yet`` naming the codes found on it, and
      ``cannot tell`` when the verification did not measure it.
    - Every other kind: ``not yet`` while a trigger finding (a code of the
      action's condition, warning or worse) is seen again about the same
      thing; else ``cannot tell`` when a trigger finding named an uplink,
      name or container that the verification did not measure; else
      ``cleared``.

    Args:
        session_id: The session that ran the verifying steps again.
        before: The diagnosis's findings, as saved.
        triggers: The codes the action's condition named (``all_of``, ``any_of``).
        after: The findings of the verifying run.
        measured: The uplinks, names and containers the verifying run
            measured (see :func:`measured_subjects`).
        card: The action card as saved, for its kind and parameters.

    Returns:
        ``session``, ``findings`` (the codes found), ``verdict`` (``cleared``,
        ``not yet`` or ``cannot tell``), ``still_seen`` (the codes found again),
        ``unmeasured`` (what the verification did not measure) and, for
        ``switch_line``, ``target`` (the uplink judged).
    """
    card = card or {}
    target = (card.get("params") or {}).get("to_uplink")
    if card.get("kind") == "switch_line" and isinstance(target, str) and target:
        still, unmeasured = _target_trouble(target, after, measured)
    else:
        still, unmeasured = _faults_left(before, triggers, after, measured)
    verdict = NOT_YET if still else CANNOT_TELL if unmeasured else CLEARED
    record = {
        "session": session_id,
        "findings": sorted({f.code for f in after}),
        "verdict": verdict,
        "still_seen": still,
        "unmeasured": unmeasured,
    }
    if card.get("kind") == "switch_line" and target:
        record["target"] = target
    return record


def _target_trouble(
    target: str, after: list[Finding], measured: set[str]
) -> tuple[list[str], list[str]]:
    """Return the trouble codes found on the uplink a user was moved to."""
    still = sorted(
        {
            f.code
            for f in after
            if f.code in UPLINK_TROUBLE and f.data.get("uplink") == target
        }
    )
    unmeasured = [] if still or _plain(target) in measured else [target]
    return still, unmeasured


def _faults_left(
    before: Iterable[dict[str, Any]],
    triggers: set[str],
    after: list[Finding],
    measured: set[str],
) -> tuple[list[str], list[str]]:
    """Return the trigger codes seen again, and the subjects left unmeasured."""
    # An informational finding (the best uplink) names the way out, not the fault.
    faults = [
        f
        for f in before
        if f.get("code") in triggers and f.get("severity") != Severity.INFO
    ]
    still = sorted(
        {f.code for f in after if any(_same_fault(old, f) for old in faults)}
    )
    subjects = ((f.get("data") or {}).get(key) for f in faults for key in SUBJECT_KEYS)
    unmeasured = [
        str(subject)
        for subject in dict.fromkeys(subjects)
        if subject is not None and _plain(subject) not in measured
    ]
    return still, unmeasured


def _same_fault(before: dict[str, Any], after: Finding) -> bool:
    """True when ``after`` states the fault ``before`` did, about the same thing."""
    if after.code != before.get("code"):
        return False
    data = before.get("data") or {}
    shared = [key for key in IDENTITY_KEYS if key in data and key in after.data]
    return all(data[key] == after.data[key] for key in shared)


def measured_subjects(results: Iterable[dict[str, Any]]) -> set[str]:
    """Return the uplinks, names and containers that probe results measured.

    Args:
        results: Probe results in their JSON shape, of steps that ran; an
            item of a measurement carrying an error measured nothing.
    """
    subjects: set[str] = set()
    for result in results:
        _collect(result.get("measurements"), subjects)
        for finding in result.get("findings", []):
            _collect(finding.get("data"), subjects)
    return subjects


def _collect(value: Any, subjects: set[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect(item, subjects)
    elif isinstance(value, dict) and not value.get("error"):
        for key, item in value.items():
            if key in SUBJECT_KEYS and isinstance(item, str):
                subjects.add(_plain(item))
            else:
                _collect(item, subjects)


def _plain(subject: Any) -> str:
    """Return a subject as compared: a DNS name without its root dot, any case."""
    return str(subject).rstrip(".").lower()
