"""The site profile: resolvers, uplinks, thresholds and default probe targets."""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from netcase.errors import ConfigError

ROUTER_FLAVOURS = ("linux", "openwrt", "routeros", "generic")
SYSTEM = "system"
PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
"""A name safe to write into a router command unquoted: an uplink's name, as
the site profile and the ``switch_line`` snippets both require it."""
PLAIN_NAME_WORDS = "a plain name (letters, digits, - _ .)"


def is_plain_name(text: str) -> bool:
    """True when ``text`` may go into a command snippet as a name."""
    return PLAIN_NAME.match(text) is not None


@dataclass(frozen=True)
class ResolverAddress:
    """One DNS resolver: an address and port, or the OS resolver list."""

    host: str
    port: int = 53

    @property
    def is_system(self) -> bool:
        """True for the placeholder meaning the OS's configured resolvers."""
        return self.host == SYSTEM

    def __str__(self) -> str:
        if self.is_system:
            return SYSTEM
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == 53 else f"{host}:{self.port}"


@dataclass(frozen=True)
class Uplink:
    """One way out of the site (an ISP line), chosen by binding a source address."""

    name: str
    label: str = ""
    source: str | None = None
    interface: str | None = None


@dataclass(frozen=True)
class Thresholds:
    """The limits that turn measurements into findings."""

    loss_pct: float = 5.0
    """Loss above this, in percent, is ``uplink.loss``."""
    rtt_ratio: float = 2.0
    """An uplink's median RTT (or TCP + TLS handshake) over this multiple of the
    best one's is ``uplink.slow`` (``uplink.handshake_slow``)."""
    rtt_ms: float = 200.0
    """A median RTT above this is ``uplink.slow`` whatever the others do."""
    rtt_margin_ms: float = 10.0
    """The ratio tests also need this many ms above the best uplink (jitter)."""
    throughput_ratio: float = 2.0
    """A re-test this many times faster than before is a recovery."""
    throughput_low_mbps: float = 5.0
    """A rate under this is ``throughput.low``."""
    weak_signal_dbm: float = -70.0
    """A signal under this is ``wifi.weak_signal``."""
    stronger_ap_db: float = 10.0
    """Another BSSID of the same SSID this much stronger is ``wifi.stronger_ap_visible``."""
    clock_skew_s: float = 60.0
    """A clock offset from the reference over this many seconds is ``clock.skewed``."""


@dataclass(frozen=True)
class Targets:
    """Default probe targets when the command line names none."""

    dns_names: tuple[str, ...] = ()
    latency: str | None = None
    tcp_port: int = 443
    throughput: str | None = None
    http_proxy: str | None = None
    """The ``http://host:port`` proxy for the clock probe's http(s) reference."""


def is_proxy_url(text: str) -> bool:
    """True for an ``http://host[:port]`` proxy URL with nothing after it."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # A bad port, or an unclosed IPv6 bracket.
        return False
    return (
        parts.scheme == "http"
        and bool(parts.hostname)
        and port != 0
        and parts.path in ("", "/")
        and not parts.query
        # Proxy credentials are not sent, and a password would end up in results.
        and "@" not in parts.netloc
    )


def check_proxy(proxy: str) -> None:
    """Check a proxy URL given on the command line or in a playbook.

    Raises:
        ConfigError: Naming the proxy and the form it needs.
    """
    if "@" in proxy:
        # Not echoed: the text may hold a password.
        raise ConfigError(
            "The proxy URL holds a user name or password; netcase sends no proxy "
            "credentials: give http://host:port (such as http://10.0.0.3:3128)."
        )
    if not is_proxy_url(proxy):
        raise ConfigError(
            f"The proxy {proxy!r} is not an http://host:port proxy URL "
            "(such as http://10.0.0.3:3128)."
        )


@dataclass(frozen=True)
class Site:
    """Everything netcase knows about the network a user is on."""

    name: str = "default"
    internal: tuple[ResolverAddress, ...] = (ResolverAddress(SYSTEM),)
    external: tuple[ResolverAddress, ...] = ()
    uplinks: tuple[Uplink, ...] = (Uplink("default", "The default route"),)
    thresholds: Thresholds = field(default_factory=Thresholds)
    targets: Targets = field(default_factory=Targets)
    router: str = "generic"
    path: Path | None = None

    def uplink(self, name: str) -> Uplink:
        """Return the uplink called ``name``.

        Raises:
            ConfigError: When the site has no such uplink.
        """
        for uplink in self.uplinks:
            if uplink.name == name:
                return uplink
        known = ", ".join(u.name for u in self.uplinks)
        raise ConfigError(
            f"No uplink named {name!r} in the site profile; known: {known}."
        )


def parse_resolver(text: str, where: str = "resolver") -> ResolverAddress:
    """Parse ``address[:port]``, ``[v6]:port`` or ``system``.

    Raises:
        ConfigError: When the text is not an IP address with an optional port.
    """
    text = text.strip()
    if text == SYSTEM:
        return ResolverAddress(SYSTEM)
    host, port = text, "53"
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        port = rest.removeprefix(":") if rest.startswith(":") else rest or "53"
        if not closed or (rest and not rest.startswith(":")):
            host = ""  # An unclosed bracket, or text after it without a colon.
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        ipaddress.ip_address(host)
        number = int(port)
        if not 0 < number < 65536:
            raise ValueError(port)
    except ValueError as exc:
        raise ConfigError(
            f"The {where} {text!r} is not an IP address with an optional port "
            "(such as 10.0.0.53, 127.0.0.1:5353, [::1]:53) or 'system'."
        ) from exc
    return ResolverAddress(host, number)


def parse_uplink(text: str, site: Site) -> Uplink:
    """Parse ``NAME=SOURCE`` or the name of one of the site's uplinks.

    Raises:
        ConfigError: When the source is not an IP address or the name unknown.
    """
    name, equals, source = (part.strip() for part in text.partition("="))
    if not equals:
        return site.uplink(name)
    try:
        ipaddress.ip_address(source)
    except ValueError as exc:
        raise ConfigError(
            f"The uplink {text!r} needs NAME=SOURCE with an IP address as SOURCE, "
            "such as telecom=10.0.1.2."
        ) from exc
    if not name:
        raise ConfigError(f"The uplink {text!r} has no name; write NAME=SOURCE.")
    known = {uplink.name: uplink for uplink in site.uplinks}
    return Uplink(name, known[name].label if name in known else name, source)


def load_site(path: str | Path | None = None) -> Site:
    """Load the site profile: ``path``, else $NETCASE_SITE, else the defaults.

    Raises:
        ConfigError: Naming the file, the key and the reason when it is invalid.
    """
    chosen = path or os.environ.get("NETCASE_SITE")
    if not chosen:
        return Site()
    file = Path(chosen).expanduser()
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the site profile {str(file)!r}: {exc.strerror}."
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}.") from exc
    return _build_site(file, raw)


def _build_site(file: Path, raw: dict[str, Any]) -> Site:
    reader = _Reader(file)
    reader.only(
        raw, "", {"name", "router", "resolvers", "uplinks", "thresholds", "targets"}
    )
    resolvers = reader.table(raw, "resolvers")
    reader.only(resolvers, "resolvers", {"internal", "external"})
    router = reader.text(raw, "router", "generic")
    if router not in ROUTER_FLAVOURS:
        reader.fail("router", f"{router!r} is not one of {', '.join(ROUTER_FLAVOURS)}")
    return Site(
        name=reader.text(raw, "name", file.stem),
        internal=reader.resolvers(resolvers, "internal", (ResolverAddress(SYSTEM),)),
        external=reader.resolvers(resolvers, "external", ()),
        uplinks=reader.uplinks(raw),
        thresholds=reader.thresholds(raw),
        targets=reader.targets(raw),
        router=router,
        path=file,
    )


class _Reader:
    """Reads typed values out of a parsed profile, naming the key on failure."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, key: str, reason: str) -> None:
        raise ConfigError(
            f"{self.file}: key {key!r}: {reason}.", title="Bad site profile"
        )

    def only(self, table: dict[str, Any], prefix: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                name = f"{prefix}.{key}" if prefix else key
                self.fail(
                    name, f"unknown key; expected one of {', '.join(sorted(allowed))}"
                )

    def table(self, raw: dict[str, Any], key: str) -> dict[str, Any]:
        value = raw.get(key, {})
        if not isinstance(value, dict):
            self.fail(key, "must be a table")
        return dict(value)

    def text(self, raw: dict[str, Any], key: str, default: str) -> str:
        value = raw.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be non-empty text, not {value!r}")
        return str(value)

    def number(
        self, raw: dict[str, Any], key: str, default: float, prefix: str
    ) -> float:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"{prefix}.{key}", f"must be a number, not {value!r}")
        return float(value)

    def resolvers(
        self, raw: dict[str, Any], key: str, default: tuple[ResolverAddress, ...]
    ) -> tuple[ResolverAddress, ...]:
        value = raw.get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"resolvers.{key}", "must be a list of 'address[:port]' strings")
        try:
            return tuple(
                parse_resolver(v, f"resolver in resolvers.{key}") for v in value
            )
        except ConfigError as exc:
            raise ConfigError(
                f"{self.file}: key 'resolvers.{key}': {exc.message}"
            ) from exc

    def uplinks(self, raw: dict[str, Any]) -> tuple[Uplink, ...]:
        value = raw.get("uplinks")
        if value is None:
            return Site().uplinks
        if not isinstance(value, list) or not value:
            self.fail("uplinks", "must be a non-empty array of tables ([[uplinks]])")
        uplinks = tuple(self.uplink(entry, i) for i, entry in enumerate(value))
        names = [u.name for u in uplinks]
        if len(set(names)) != len(names):
            self.fail("uplinks", f"uplink names must be unique: {names!r}")
        return uplinks

    def uplink(self, entry: Any, index: int) -> Uplink:
        where = f"uplinks[{index}]"
        if not isinstance(entry, dict):
            self.fail(where, "must be a table")
        self.only(entry, where, {"name", "label", "source", "interface"})
        name = self.text(entry, "name", "")
        if not is_plain_name(name):
            self.fail(f"{where}.name", f"must be {PLAIN_NAME_WORDS}, not {name!r}")
        source = entry.get("source")
        if source is not None:
            try:
                ipaddress.ip_address(source)
            except ValueError:
                self.fail(f"{where}.source", f"{source!r} is not an IP address")
        interface = entry.get("interface")
        if interface is not None and not isinstance(interface, str):
            self.fail(f"{where}.interface", "must be text")
        return Uplink(name, str(entry.get("label", name)), source, interface)

    def thresholds(self, raw: dict[str, Any]) -> Thresholds:
        table = self.table(raw, "thresholds")
        defaults = Thresholds()
        allowed = set(defaults.__dataclass_fields__)
        self.only(table, "thresholds", allowed)
        values = {
            key: self.number(table, key, getattr(defaults, key), "thresholds")
            for key in allowed
        }
        for key, value in values.items():
            self.threshold(key, value)
        return Thresholds(**values)

    def threshold(self, key: str, value: float) -> None:
        """Refuse a threshold no measurement can be compared with."""
        name = f"thresholds.{key}"
        if not math.isfinite(value):
            self.fail(name, f"must be a finite number, not {value!r}")
        if key == "weak_signal_dbm" and value >= 0:
            self.fail(
                name, f"must be under 0 (a signal in dBm, such as -70), not {value:g}"
            )
        if key != "weak_signal_dbm" and value < 0:
            self.fail(name, f"must be 0 or more, not {value:g}")

    def targets(self, raw: dict[str, Any]) -> Targets:
        table = self.table(raw, "targets")
        self.only(
            table,
            "targets",
            {"dns_names", "latency", "tcp_port", "throughput", "http_proxy"},
        )
        names = table.get("dns_names", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            self.fail("targets.dns_names", "must be a list of names")
        port = table.get("tcp_port", 443)
        if not isinstance(port, int) or not 0 < port < 65536:
            self.fail("targets.tcp_port", f"must be a port number, not {port!r}")
        latency, throughput = table.get("latency"), table.get("throughput")
        proxy = table.get("http_proxy")
        for key, value in (
            ("latency", latency),
            ("throughput", throughput),
            ("http_proxy", proxy),
        ):
            if value is not None and not isinstance(value, str):
                self.fail(f"targets.{key}", "must be text")
        if isinstance(proxy, str) and not is_proxy_url(proxy):
            shown = repr(proxy) if "@" not in proxy else "a URL with credentials"
            self.fail(
                "targets.http_proxy",
                "must be an http://host:port proxy URL without a user name or "
                f"password, not {shown}",
            )
        return Targets(tuple(names), latency, port, throughput, proxy)
