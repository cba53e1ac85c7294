"""The probe screen's forms: one per probe, each turning its fields into parameters.

A form reads and checks every field before a probe starts, so a bad value
becomes a message naming it and the field it came from, never a failed run.
Each check imports its probe module when it runs, as the registry does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.widgets import Input, Label

from netcase.errors import ConfigError, NetcaseError
from netcase.site import Site, Uplink, parse_resolver, parse_uplink

T = TypeVar("T")

METHODS = ("auto", "icmp", "tcp")
RECORD_TYPES = ("A", "AAAA")


class FormValueError(ConfigError):
    """A form field holds a value the probe cannot use.

    Args:
        message: What is wrong with the value, naming it.
        field: The input the value was read from, to give it the focus.
    """

    title = "Bad probe input"

    def __init__(self, message: str, field: Input) -> None:
        super().__init__(message)
        self.field = field


def split_list(text: str) -> list[str]:
    """Split a field that holds several values, separated by commas or spaces."""
    return [item for item in re.split(r"[,\s]+", text.strip()) if item]


def positive_number(text: str, what: str) -> float:
    """Read a number of seconds above 0.

    Raises:
        ConfigError: Naming the text when it is not such a number.
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise ConfigError(
            f"The {what} {text!r} is not a number of seconds above 0; give one "
            "such as 2 or 0.5."
        )
    return value


def whole_number(text: str, what: str, lowest: int, highest: int) -> int:
    """Read a whole number between ``lowest`` and ``highest``.

    Raises:
        ConfigError: Naming the text when it is not such a number.
    """
    try:
        value = int(text)
    except ValueError:
        value = lowest - 1
    if not lowest <= value <= highest:
        raise ConfigError(
            f"The {what} {text!r} is not a whole number from {lowest} to {highest}."
        )
    return value


def parse_uplinks(text: str, site: Site) -> tuple[Uplink, ...]:
    """Read ``NAME=SOURCE`` items, or names of the site's uplinks.

    Raises:
        ConfigError: For an unknown name, a source that is not an IP address,
            or a name given twice.
    """
    uplinks = [parse_uplink(item, site) for item in split_list(text)]
    names = [uplink.name for uplink in uplinks]
    if len(set(names)) != len(names):
        raise ConfigError(f"Uplink names must be unique, not {', '.join(names)}.")
    return tuple(uplinks)


def uplink_text(uplink: Uplink) -> str:
    """Write an uplink as the form shows it: ``NAME=SOURCE``, or its name alone."""
    return f"{uplink.name}={uplink.source}" if uplink.source else uplink.name


class ProbeInput(Input):
    """One field of a probe form; Enter runs the probe."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Run"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | enter | Submit the field, which runs the probe of its form. |
    """


class ProbeForm(Grid):
    """The fields of one probe, laid out two to a line.

    Args:
        site: The site profile the fields start from.
    """

    DEFAULT_CSS = """
    ProbeForm {
        grid-size: 4;
        grid-columns: 11 1fr 11 1fr;
        grid-rows: 1;
        grid-gutter: 0 1;
        height: auto;
        padding: 0 1;
    }
    ProbeForm > Label {
        color: $text-muted;
        width: 100%;
        text-align: right;
    }
    ProbeForm > Input.-wide {
        column-span: 3;
    }
    """

    probe: ClassVar[str] = ""
    """The name of the probe in :data:`netcase.probes.registry.PROBES`."""
    title: ClassVar[str] = ""
    """The probe's name on its tab."""

    def __init__(self, site: Site, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.site = site

    def field(
        self, key: str, label: str, value: str, placeholder: str, wide: bool = False
    ) -> ComposeResult:
        """Yield one labelled input, spanning the line when ``wide``."""
        yield Label(label)
        yield ProbeInput(
            value,
            placeholder=placeholder,
            id=f"{self.probe}-{key}",
            compact=True,
            classes="-wide" if wide else "",
        )

    def read(self, key: str, parse: Callable[[str], T]) -> T:
        """Read one field through ``parse``, blaming the field for any error.

        Raises:
            FormValueError: When ``parse`` rejects the text.
        """
        field = self.query_one(f"#{self.probe}-{key}", Input)
        try:
            return parse(field.value.strip())
        except NetcaseError as error:
            raise FormValueError(error.message, field) from error

    @property
    def first_input(self) -> Input:
        """The form's first field."""
        return self.query(Input).first()

    def params(self) -> dict[str, Any]:
        """Return the probe's parameters from the fields.

        Raises:
            FormValueError: Naming the first field whose value is unusable.
        """
        raise NotImplementedError


class DnsForm(ProbeForm):
    """Names to look up and the resolvers to compare."""

    probe = "dns"
    title = "DNS"

    def compose(self) -> ComposeResult:
        internal = ", ".join(str(a) for a in self.site.internal)
        external = ", ".join(str(a) for a in self.site.external)
        names = ", ".join(self.site.targets.dns_names)
        yield from self.field("names", "Names", names, "www.example.com", wide=True)
        yield from self.field(
            "internal", "Internal", internal, "10.0.0.53, 127.0.0.1:5353", wide=True
        )
        yield from self.field("external", "External", external, "none", wide=True)
        yield from self.field("timeout", "Timeout s", "2", "2")
        yield from self.field("types", "Types", "A AAAA", "A AAAA")

    def params(self) -> dict[str, Any]:
        """Return names, resolvers, timeout and record types."""
        return {
            "names": self.read("names", _dns_names),
            "internal": self.read("internal", _resolvers("internal resolver")),
            "external": self.read("external", _resolvers("external resolver")),
            "timeout": self.read("timeout", lambda t: positive_number(t, "timeout")),
            "types": self.read("types", _record_types),
        }


def _dns_names(text: str) -> list[str]:
    from netcase.probes.dnscompare import parse_names

    names = split_list(text)
    if not names:
        raise ConfigError("Give at least one name to look up, such as example.com.")
    parse_names(names)
    return names


def _resolvers(what: str) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        return [str(parse_resolver(item, what)) for item in split_list(text)]

    return parse


def _record_types(text: str) -> list[str]:
    types = [item.upper() for item in split_list(text)]
    unknown = [t for t in types if t not in RECORD_TYPES]
    if unknown or not types:
        raise ConfigError(
            f"The record types {text!r} are not supported; use A, AAAA or both."
        )
    return types


class LatencyForm(ProbeForm):
    """A target and the uplinks to ping it through."""

    probe = "latency"
    title = "Latency"

    def compose(self) -> ComposeResult:
        target = self.site.targets.latency or ""
        uplinks = " ".join(uplink_text(u) for u in self.site.uplinks)
        port = str(self.site.targets.tcp_port)
        yield from self.field("target", "Target", target, "10.0.0.1", wide=True)
        yield from self.field(
            "uplinks", "Uplinks", uplinks, "wan1=10.0.1.2 wan2=10.0.2.2", wide=True
        )
        yield from self.field("count", "Count", "10", "10")
        yield from self.field("interval", "Interval s", "0.2", "0.2")
        yield from self.field("method", "Method", "auto", "auto, icmp or tcp")
        yield from self.field("tcp_port", "TCP port", port, "443")

    def params(self) -> dict[str, Any]:
        """Return the target, uplinks, count, interval, method and TCP port."""
        return {
            "target": self.read("target", _latency_target),
            "uplinks": self.read("uplinks", self._uplinks),
            "count": self.read("count", _count),
            "interval": self.read("interval", lambda t: positive_number(t, "interval")),
            "method": self.read("method", _method),
            "tcp_port": self.read(
                "tcp_port", lambda t: whole_number(t, "TCP port", 1, 65535)
            ),
        }

    def _uplinks(self, text: str) -> list[str]:
        return [uplink_text(u) for u in parse_uplinks(text, self.site)]


def _latency_target(text: str) -> str:
    from netcase.probes.latency_target import split_target

    split_target(text)
    return text


def _count(text: str) -> int:
    from netcase.probes.latency_series import MAX_COUNT

    return whole_number(text, "count", 1, MAX_COUNT)


def _method(text: str) -> str:
    if text not in METHODS:
        raise ConfigError(f"The method {text!r} is not one of {', '.join(METHODS)}.")
    return text


class ThroughputForm(ProbeForm):
    """A URL to download for some seconds, optionally through one uplink."""

    probe = "throughput"
    title = "Throughput"

    def compose(self) -> ComposeResult:
        url = self.site.targets.throughput or ""
        yield from self.field(
            "url", "URL", url, "http://10.0.0.5/file, ftp://… or speedtest", wide=True
        )
        yield from self.field("seconds", "Seconds", "10", "10")
        yield from self.field("uplink", "Uplink", "", "OS's choice, or NAME=SOURCE")
        yield from self.field(
            "server", "Speedtest", "", "mini server URL (speedtest only)", wide=True
        )

    def params(self) -> dict[str, Any]:
        """Return the URL, seconds and, when given, the uplink and server."""
        params: dict[str, Any] = {
            "url": self.read("url", _throughput_target),
            "seconds": self.read("seconds", lambda t: positive_number(t, "duration")),
        }
        uplink = self.read("uplink", self._uplink)
        if uplink:
            params["uplink"] = uplink
        server = self.read("server", str)
        if server:
            params["server"] = server
        return params

    def _uplink(self, text: str) -> str:
        uplinks = parse_uplinks(text, self.site)
        if len(uplinks) > 1:
            raise ConfigError(f"Give one uplink for a throughput run, not {text!r}.")
        return uplink_text(uplinks[0]) if uplinks else ""


def _throughput_target(text: str) -> str:
    from netcase.probes.throughput import backend_of

    backend_of(text)
    return text


class WifiForm(ProbeForm):
    """A captured tool output to read, or nothing to read this machine live."""

    probe = "wifi"
    title = "Wi-Fi"

    def compose(self) -> ComposeResult:
        yield from self.field(
            "from_file", "From file", "", "empty: read this machine live", wide=True
        )
        yield from self.field(
            "interface", "Interface", "", "the first connected one", wide=True
        )

    def params(self) -> dict[str, Any]:
        """Return the capture file and interface, each only when given."""
        params: dict[str, Any] = {}
        path = self.read("from_file", _capture_file)
        if path:
            params["from_file"] = path
        interface = self.read("interface", str)
        if interface:
            params["interface"] = interface
        return params


def _capture_file(text: str) -> str:
    if text and not Path(text).expanduser().is_file():
        raise ConfigError(
            f"The capture file {text!r} does not exist or is not a file; save "
            "the output of nmcli, iw, netsh or wdutil to a file and name it here."
        )
    return str(Path(text).expanduser()) if text else ""


FORMS: tuple[type[ProbeForm], ...] = (DnsForm, LatencyForm, ThroughputForm, WifiForm)
"""The forms, in the order of their tabs."""
