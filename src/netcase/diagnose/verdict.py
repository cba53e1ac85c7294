"""The verdict of a verification: are the findings that called for an action gone?"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from netcase.probes.findings import Finding, Severity

IDENTITY_KEYS = ("uplink", "name", "type", "resolver", "container", "path")
"""Data keys that say what a finding is about; a finding about another uplink
or name is a different fault, not the one the action was for."""


def verification_record(
    session_id: int,
    before: Iterable[dict[str, Any]],
    triggers: set[str],
    after: list[Finding],
) -> dict[str, Any]:
    """Return what a verification found and whether the action's cause is gone.

    Args:
        session_id: The session that ran the verifying steps again.
        before: The diagnosis's findings, as saved.
        triggers: The codes the action's condition named (``all_of``, ``any_of``).
        after: The findings of the verifying run.

    Returns:
        ``session``, ``findings`` (the codes found), ``verdict`` (``cleared``
        or ``not yet``) and ``still_seen`` (the trigger codes found again).
    """
    # An informational finding (the best uplink) names the way out, not the fault.
    faults = [
        f
        for f in before
        if f.get("code") in triggers and f.get("severity") != Severity.INFO
    ]
    still = sorted(
        {f.code for f in after if any(_same_fault(old, f) for old in faults)}
    )
    return {
        "session": session_id,
        "findings": sorted({f.code for f in after}),
        "verdict": "not yet" if still else "cleared",
        "still_seen": still,
    }


def _same_fault(before: dict[str, Any], after: Finding) -> bool:
    """True when ``after`` states the fault ``before`` did, about the same thing."""
    if after.code != before.get("code"):
        return False
    data = before.get("data") or {}
    shared = [key for key in IDENTITY_KEYS if key in data and key in after.data]
    return all(data[key] == after.data[key] for key in shared)
