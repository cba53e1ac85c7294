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


def fill(value: Any, context: Mapping[str, Any], missing: str = "fail") -> Any:
    """Replace ``{name}`` look-ups with values from ``context``.

    A string that is exactly one placeholder takes the value's own type (a
    list stays a list); otherwise values are joined in as text.

    Args:
        value: A text, list or mapping from a playbook.
        context: The values by name.
        missing: What a name without a value does: ``fail`` raises,
            ``drop`` leaves out a mapping entry that is only that name (and
            raises elsewhere), ``mark`` writes ``<name>`` in its place.

    Raises:
        TemplateError: When a name has no value and ``missing`` allows none.
    """
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return _lookup(whole.group(1), context, missing)
        return PLACEHOLDER.sub(
            lambda m: str(_lookup(m.group(1), context, missing)), value
        )
    if isinstance(value, Mapping):
        filled = {}
        for key, item in value.items():
            only = PLACEHOLDER.fullmatch(item) if isinstance(item, str) else None
            if missing == "drop" and only and context.get(only.group(1)) is None:
                continue
            filled[key] = fill(item, context, missing)
        return filled
    if isinstance(value, list | tuple):
        return [fill(item, context, missing) for item in value]
    return value


def _lookup(name: str, context: Mapping[str, Any], missing: str) -> Any:
    if name in context and context[name] is not None:
        return context[name]
    if missing == "mark":
        return f"<{name}>"
    raise TemplateError(
        f"No value for {{{name}}}: give it with --set {name}=VALUE or in the form."
    )
