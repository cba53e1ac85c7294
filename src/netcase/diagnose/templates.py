"""``{name}`` look-ups in playbook values; nothing from a case file is evaluated."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from netcase.errors import NetcaseError

PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.\-]*)\}")


class TemplateError(NetcaseError):
    """A ``{name}`` that has no value."""

    title = "Missing value"


def placeholders(value: Any) -> list[str]:
    """Return every ``{name}`` used anywhere inside a value."""
    if isinstance(value, str):
        return PLACEHOLDER.findall(value)
    if isinstance(value, Mapping):
        return [name for item in value.values() for name in placeholders(item)]
    if isinstance(value, list | tuple):
        return [name for item in value for name in placeholders(item)]
    return []


def fill(value: Any, context: Mapping[str, Any]) -> Any:
    """Replace ``{name}`` look-ups with values from ``context``.

    A string that is exactly one placeholder takes the value's own type (a
    list stays a list); otherwise values are joined in as text.

    Raises:
        TemplateError: When a name has no value.
    """
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return _lookup(whole.group(1), context)
        return PLACEHOLDER.sub(lambda m: str(_lookup(m.group(1), context)), value)
    if isinstance(value, Mapping):
        return {key: fill(item, context) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [fill(item, context) for item in value]
    return value


def _lookup(name: str, context: Mapping[str, Any]) -> Any:
    if name in context and context[name] is not None:
        return context[name]
    raise TemplateError(
        f"No value for {{{name}}}: give it with --set {name}=VALUE or in the form."
    )
