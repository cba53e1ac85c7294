"""The order a playbook's steps run in: stages of parallel probes between manual steps."""

from __future__ import annotations

from netcase.diagnose.playbook import Playbook, Step


def stages(steps: tuple[Step, ...]) -> list[list[Step]]:
    """Group consecutive probe steps; each manual step is a stage of its own."""
    grouped: list[list[Step]] = []
    for step in steps:
        if step.is_manual or not grouped or grouped[-1][0].is_manual:
            grouped.append([step])
        else:
            grouped[-1].append(step)
    return grouped


def skipped_before_retest(
    playbook: Playbook, step: Step, skipped_ids: set[str]
) -> Step | None:
    """Return a skipped manual step between a re-test and the step it repeats.

    A re-test measures what the person's action changed; when the action was
    skipped, comparing the two would report a change that was never made.

    Args:
        playbook: The playbook being run.
        step: A step about to run.
        skipped_ids: The manual steps skipped so far.
    """
    ids = [s.id for s in playbook.steps]
    if step.retest_of not in ids:
        return None  # Not a re-test, or one run alone to verify an action.
    between = playbook.steps[ids.index(step.retest_of) + 1 : ids.index(step.id)]
    return next((s for s in between if s.id in skipped_ids), None)
