"""Checks of playbook values: input kinds, and the kinds of probe parameters.

Both a value an engineer gives (``--set domain=...``) and a value written in
a case file (an input's default, a step's ``count``) are checked here, so
that ``netcase kb check`` refuses what would fail at run time.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from netcase.diagnose.templates import PLACEHOLDER
from netcase.errors import ConfigError
from netcase.probes.latency_series import MAX_COUNT
from netcase.probes.limits import (
    DEFAULT_INTERVAL_S,
    MAX_INTERVAL_S,
    MAX_SERIES_S,
    MAX_TIMEOUT_S,
    MIN_INTERVAL_S,
    MIN_TRANSFER_S,
)
from netcase.probes.registry import MAX_THROUGHPUT_SECONDS

URL_SCHEMES = ("http", "https", "ftp")
"""The schemes a ``url`` input may use: those the throughput probe can fetch."""
DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
"""A host name label: letters, digits and inner hyphens (RFC 1123, section 2.1)."""
DNS_NAME_MAX = 253
"""The longest name in dotted text form (RFC 1035, section 2.3.4: 255 octets on the wire)."""


def check_input(kind: str, name: str, value: str) -> str:
    """Return an input's value, stripped, once it fits the input's kind.

    Raises:
        ConfigError: Naming the input, the kind it needs and the bad value.
    """
    value = value.strip()
    check = _INPUT_CHECKS.get(kind)
    return value if check is None else check(name, value)


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
    """Accept a DNS host name (an IDN too, checked in its ASCII form) or an address."""
    if not is_dns_name(value) and not _is_address(value):
        raise _wrong(
            name,
            "a DNS name of letters, digits, '-' and '.' (such as www.example.com)",
            value,
        )
    return value


def is_dns_name(value: str) -> bool:
    """True for a host name: LDH labels once an IDN is in its ASCII form."""
    # A trailing dot names the root (RFC 1034, section 3.1): the same name.
    host = value[:-1] if value.endswith(".") else value
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.split(".")
    return (
        bool(host)
        and len(ascii_host) <= DNS_NAME_MAX
        and all(DNS_LABEL.match(label) for label in labels)
    )


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _spaced(value: str) -> bool:
    return any(ch.isspace() for ch in value)


def _wrong(name: str, what: str, value: str) -> ConfigError:
    return ConfigError(f"The input {name} must be {what}, not {value!r}.")


_INPUT_CHECKS: dict[str, Callable[[str, str], str]] = {
    "ip": _ip,
    "int": _whole,
    "url": _url,
    "name": _name,
}


PROBE_PARAM_KINDS: dict[str, dict[str, str]] = {
    "dns": {
        "names": "texts",
        "types": "texts",
        "timeout": "number",
        "internal": "texts",
        "external": "texts",
    },
    "latency": {
        "target": "text",
        "uplinks": "texts",
        "count": "int",
        "interval": "number",
        "timeout": "number",
        "method": "text",
        "tcp_port": "int",
        "tls": "bool",
        "tls_verify": "bool",
        "resolvers": "texts",
    },
    "throughput": {
        "url": "text",
        "uplink": "texts",
        "seconds": "number",
        "expect_mbps": "number",
        "server": "text",
        "timeout": "number",
    },
    "wifi": {"from_file": "text", "scan_file": "text", "interface": "text"},
    "clock": {
        "ntp": "text",
        "http": "text",
        "proxy": "text",
        "apt_error": "text",
        "timeout": "number",
    },
    "localtime_mount": {
        "inspect_file": "text",
        "inspect_text": "text",
        "container": "text",
    },
}
"""The kind of value each probe parameter takes, as the probes read them.

A parameter not listed here is not checked.
"""


@dataclass(frozen=True)
class Bounds:
    """The range a numeric probe parameter must fall in, as the probe enforces it."""

    low: float
    high: float | None = None
    low_included: bool = True

    def holds(self, value: float) -> bool:
        """True when ``value`` is in the range."""
        above = value >= self.low if self.low_included else value > self.low
        return above and (self.high is None or value <= self.high)

    def words(self) -> str:
        """Say the range, as in ``between 1 and 65536``."""
        if self.low_included and self.high is not None:
            return f"between {self.low:g} and {self.high:g}"
        low = f"{self.low:g} or more" if self.low_included else f"above {self.low:g}"
        return low if self.high is None else f"{low} and at most {self.high:g}"


TIMEOUT = Bounds(0, MAX_TIMEOUT_S, low_included=False)
PARAM_BOUNDS: dict[tuple[str, str], Bounds] = {
    ("dns", "timeout"): TIMEOUT,
    ("latency", "count"): Bounds(1, MAX_COUNT),
    ("latency", "interval"): Bounds(MIN_INTERVAL_S, MAX_INTERVAL_S),
    ("latency", "timeout"): TIMEOUT,
    ("latency", "tcp_port"): Bounds(1, 65535),
    ("throughput", "seconds"): Bounds(MIN_TRANSFER_S, MAX_THROUGHPUT_SECONDS),
    ("throughput", "expect_mbps"): Bounds(0),
    ("throughput", "timeout"): TIMEOUT,
    ("clock", "timeout"): TIMEOUT,
}
"""The ranges the probes refuse values outside of, checked by ``kb check`` so a
playbook fails there and not when it runs."""
PARAM_KIND_WORDS = {
    "int": "a whole number",
    "number": "a number",
    "bool": "true or false",
    "text": "one text",
    "texts": "a text or a list of texts",
}
INPUT_KINDS_FOR = {"int": ("int",), "number": ("int",)}
"""For a parameter that is one ``{input}`` whole: the input kinds that fit it."""


def param_problems(
    probe: str, params: Mapping[str, Any], input_kinds: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Return ``(parameter, message)`` for each value the probe cannot read.

    Args:
        probe: The probe a step names.
        params: The step's parameters as written, look-ups unfilled.
        input_kinds: The playbook's inputs and their kinds.
    """
    kinds = PROBE_PARAM_KINDS.get(probe, {})
    problems = []
    for key, value in params.items():
        kind = kinds.get(key)
        if kind is None:
            continue
        problem = (
            _lookup_problem(kind, value, input_kinds)
            if PLACEHOLDER.search(str(value))
            else _literal_problem(probe, key, kind, value)
        )
        if problem:
            message = f"The parameter {key!r} of the probe {probe!r} {problem}."
            problems.append((key, message))
    if probe == "latency" and not problems:
        problems.extend(_series_problem(params))
    return problems


def _series_problem(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Refuse a ping series planned to last longer than a probe may."""
    count, interval = (
        params.get("count", 10),
        params.get("interval", DEFAULT_INTERVAL_S),
    )
    if not all(isinstance(v, int | float) for v in (count, interval)):
        return []  # Filled from inputs: checked when the step runs.
    if count * interval <= MAX_SERIES_S:
        return []
    return [
        (
            "count",
            f"The latency step's {count} pings every {interval:g} s would take "
            f"{count * interval:g} s, over the {MAX_SERIES_S:g} s a series may "
            "last; give a smaller count or a shorter interval.",
        )
    ]


def _literal_problem(probe: str, key: str, kind: str, value: Any) -> str | None:
    fits = _PARAM_CHECKS[kind]
    if not fits(value):
        return f"takes {PARAM_KIND_WORDS[kind]}, not {value!r}"
    bounds = PARAM_BOUNDS.get((probe, key))
    if bounds is None or bounds.holds(float(value)):
        return None
    return f"must be {bounds.words()}, not {value!r}"


def _lookup_problem(
    kind: str, value: Any, input_kinds: Mapping[str, str]
) -> str | None:
    """Say why a parameter made of look-ups cannot be read as ``kind``, or None."""
    fitting = INPUT_KINDS_FOR.get(kind)
    if fitting is None and kind != "bool":
        return None
    whole = PLACEHOLDER.fullmatch(value) if isinstance(value, str) else None
    if whole and fitting and input_kinds.get(whole.group(1)) in fitting:
        return None
    needs = (
        f"one {{input}} of kind {' or '.join(fitting)}"
        if fitting
        else "true or false written out"
    )
    return f"takes {needs}, not {value!r}"


def _is_int(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().isascii() and value.strip().isdigit()
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return math.isfinite(value)
    try:
        return isinstance(value, str) and math.isfinite(float(value))
    except ValueError:
        return False


def _is_text(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _is_texts(value: Any) -> bool:
    if isinstance(value, list):
        return all(_is_text(item) for item in value)
    return _is_text(value)


_PARAM_CHECKS: dict[str, Callable[[Any], bool]] = {
    "int": _is_int,
    "number": _is_number,
    "bool": lambda value: isinstance(value, bool),
    "text": _is_text,
    "texts": _is_texts,
}
