"""Check the playbook parts of cases against the probes and action kinds."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from netcase.diagnose.actions import ACTION_KINDS
from netcase.diagnose.playbook import Playbook, load_playbook
from netcase.kb.case import Case
from netcase.kb.catalog import FileProblem
from netcase.probes.registry import probe_params


def load_playbooks(
    cases: Iterable[tuple[Path, Case]],
) -> tuple[dict[str, Playbook], list[FileProblem]]:
    """Read every case's playbook; a broken one is reported and left out."""
    params = probe_params()
    kinds = frozenset(ACTION_KINDS)
    playbooks: dict[str, Playbook] = {}
    problems: list[FileProblem] = []
    for path, case in cases:
        playbook, found = load_playbook(case, params, kinds)
        problems += [FileProblem(path, p.line, p.message) for p in found]
        if not found:
            playbooks[case.id] = playbook
    return playbooks, problems
