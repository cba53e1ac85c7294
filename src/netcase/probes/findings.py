"""The finding codes: the one vocabulary shared by probes and case files.

Every code a probe may emit is defined here with one line of meaning. A case
file that names a code not listed here is rejected by ``netcase kb check``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a finding should worry the engineer."""

    INFO = "info"
    """A fact worth knowing; nothing is wrong."""
    WARNING = "warning"
    """Something is degraded or suspicious."""
    ERROR = "error"
    """Something is broken."""


FINDING_CODES: dict[str, str] = {
    # DNS comparison
    "dns.consistent": "Internal and external resolvers agree (same answers or same networks).",
    "dns.split_horizon": "The internal answer is private or differs from a public external one.",
    "dns.mismatch": "Resolvers give different public answers (a CDN may explain it).",
    "dns.nxdomain": "A resolver says the name does not exist (an answer, not a failure).",
    "dns.servfail": "A resolver failed to answer the name (SERVFAIL).",
    "dns.timeout": "A resolver did not answer within the timeout.",
    "dns.hijack_suspected": "A resolver gives an address for a random name that cannot exist.",
    "dns.error": "A resolver refused the query or gave no usable answer (REFUSED, unreachable).",
    "dns.bad_name": "A name given to compare is not a DNS name (an IP address, say), so it was not looked up.",
    # Per-uplink latency and loss
    "uplink.down": "No reply at all through this uplink.",
    "uplink.loss": "Packet loss through this uplink is over the threshold.",
    "uplink.slow": "This uplink's RTT is over the threshold or far above the best uplink's.",
    "uplink.handshake_slow": "This uplink's TCP connect plus TLS handshake takes far longer than the fastest uplink's (ratio and margin as for uplink.slow).",
    "uplink.handshake_failed": "This uplink's TCP connect or TLS handshake failed (timeout, reset, untrusted certificate) while another uplink's succeeded.",
    "uplink.best": "The uplink with acceptable loss, a sound handshake where one was timed, and the lowest RTT to the target.",
    "uplink.all_degraded": "Every uplink is down, lossy, slow, or has a slow or failed handshake: the cause is beyond the site.",
    # Throughput
    "throughput.low": "The measured rate is under the expected rate.",
    "throughput.recovered_after_reconnect": "The re-test after the person's action is much faster.",
    "throughput.unchanged": "The re-test after the person's action is no faster.",
    # Wi-Fi link
    "wifi.weak_signal": "The Wi-Fi signal is under the weak-signal threshold.",
    "wifi.roamed": "The BSSID changed between two reads: the device moved to another AP.",
    "wifi.stronger_ap_visible": "The same SSID is visible much stronger on another BSSID.",
    # Clock
    "clock.skewed": "This machine's clock is off from the reference by more than the threshold.",
    "clock.ok": "This machine's clock agrees with the reference within the threshold.",
    "clock.unreachable": "No clock reference answered (NTP server, HTTP Date header).",
    # Containers
    "container.localtime_bind_mount": "/etc/localtime or /etc/timezone is a mount (a bind of the host's) in the container: tzdata cannot replace it.",
    "container.localtime_not_mounted": "The container's /etc/localtime is its own file, not a mount: tzdata can replace it.",
}

UPLINK_TROUBLE = frozenset(
    {
        "uplink.down",
        "uplink.loss",
        "uplink.slow",
        "uplink.handshake_slow",
        "uplink.handshake_failed",
    }
)
"""Codes that say one named uplink (``data["uplink"]``) is degraded."""


@dataclass(frozen=True)
class Finding:
    """One stated observation of a probe.

    Attributes:
        code: A dotted code from :data:`FINDING_CODES`.
        severity: How much it matters.
        summary: One line with the measured numbers.
        data: The values an action may need (an uplink's name, a rate).
    """

    code: str
    severity: Severity
    summary: str
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in FINDING_CODES:
            raise ValueError(
                f"Unknown finding code {self.code!r}; add it to FINDING_CODES."
            )

    def to_json(self) -> dict[str, Any]:
        """Return the finding as plain JSON values."""
        return {
            "code": self.code,
            "severity": str(self.severity),
            "summary": self.summary,
            "data": self.data,
        }
