"""Playbook inputs: the values an engineer fills in, combined with defaults and checked."""

from __future__ import annotations

from collections.abc import Mapping

from netcase.diagnose.playbook import Playbook
from netcase.diagnose.values import check_input
from netcase.errors import ConfigError


def resolve_inputs(
    playbook: Playbook, given: Mapping[str, str]
) -> dict[str, str | None]:
    """Combine given values with defaults, checking each against its kind.

    Raises:
        ConfigError: For an unknown name or a value of the wrong kind.
    """
    unknown = sorted(set(given) - set(playbook.inputs))
    if unknown:
        known = ", ".join(playbook.inputs) or "none"
        raise ConfigError(
            f"The case {playbook.case_id!r} has no input {unknown[0]!r}; its inputs: {known}."
        )
    values: dict[str, str | None] = {}
    for name, spec in playbook.inputs.items():
        value = given.get(name, spec.default)
        values[name] = (
            None if value is None else check_input(spec.kind, name, str(value))
        )
    return values
