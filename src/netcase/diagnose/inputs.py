"""Playbook inputs: the values an engineer fills in, combined with defaults and checked."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from netcase.diagnose.playbook import InputSpec, Playbook
from netcase.errors import ConfigError

URL_SCHEMES = ("http", "https", "ftp")


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
        values[name] = None if value is None else _checked(spec, str(value))
    return values


def _checked(spec: InputSpec, value: str) -> str:
    value = value.strip()
    check = _CHECKS.get(spec.kind)
    return value if check is None else check(spec.name, value)


def _ip(name: str, value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise _wrong(name, "an IP address", value) from exc


def _whole(name: str, value: str) -> str:
    # int() alone would take "-5", "+5", "1_000" and non-ASCII digits.
    if not (value.isascii() and value.isdigit()) or int(value) == 0:
        raise _wrong(name, "a whole number greater than 0", value)
    return str(int(value))


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in URL_SCHEMES or not parts.netloc or _spaced(value):
        schemes = ", ".join(f"{scheme}://" for scheme in URL_SCHEMES)
        raise _wrong(name, f"a URL starting with {schemes} and without spaces", value)
    return value


def _name(name: str, value: str) -> str:
    if not value or _spaced(value):
        raise _wrong(name, "a name without spaces", value)
    return value


def _spaced(value: str) -> bool:
    return any(ch.isspace() for ch in value)


def _wrong(name: str, what: str, value: str) -> ConfigError:
    return ConfigError(f"The input {name} must be {what}, not {value!r}.")


_CHECKS: dict[str, Callable[[str, str], str]] = {
    "ip": _ip,
    "int": _whole,
    "url": _url,
    "name": _name,
}
