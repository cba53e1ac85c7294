"""The bounds on every probe's durations, and the check that applies them.

A duration that is not a finite number above zero cannot be waited for: a
timeout of ``inf`` (which ``float()`` happily reads from ``--timeout inf`` or
a playbook's ``.inf``) waits forever for a reply that was dropped, and ``nan``
compares false with everything, so it slips past a plain ``> 0`` check. A huge
finite value hangs just as surely in practice, so each kind of duration also
has a ceiling, chosen from what a helpdesk engineer waits for at a desk.
"""

from __future__ import annotations

import math
from typing import Any

from netcase.errors import ConfigError

MAX_TIMEOUT_S = 60.0
"""The longest one exchange may wait: a DNS query, a ping reply, a TCP or TLS
handshake, an HTTP HEAD, an SNTP answer, a local command such as nmcli or
docker inspect. Any working path, satellite links included, answers within a
few seconds; after a minute the person at the desk has given up and the probe
only looks hung."""

MAX_INTERVAL_S = 60.0
"""The longest pause between two pings of one uplink: beyond a minute the
series no longer describes one moment of the line."""

MAX_SERIES_S = 3600.0
"""The longest a ping series may be planned to last (count x interval): an hour
of watching a line is a monitoring job, not a probe."""

MAX_TRANSFER_S = 600.0
"""The longest one throughput transfer may last: ten minutes shows the steady
rate of any line, and a re-test runs two of them."""

MAX_PAUSE_S = 600.0
"""The longest wait between two live Wi-Fi reads: long enough to walk to the
other end of a floor and back."""


DEFAULT_INTERVAL_S = 0.2
"""The pause between two pings of one uplink when none is given."""

MIN_INTERVAL_S = 0.002
"""The shortest pause between two pings: what iputils ping allows even its
super-user. Shorter is a flood that measures the sender, not the line."""

MIN_TRANSFER_S = 1.0
"""The shortest throughput transfer: the rate is reported per second, and a
shorter window ends before a slow start has sent anything."""


def check_seconds(
    value: Any,
    label: str,
    maximum_s: float,
    *,
    zero_ok: bool = False,
    minimum_s: float | None = None,
) -> float:
    """Return ``value`` as seconds when it is finite, above 0 and at most ``maximum_s``.

    Args:
        value: A number, or text read from a playbook.
        label: How the caller names the value in a message, such as
            ``"The timeout"`` or ``"--timeout"``.
        maximum_s: The largest value allowed.
        zero_ok: Accept 0 as well (a pause that may be skipped).
        minimum_s: The smallest value allowed, where more than 0 is needed.

    Raises:
        ConfigError: Naming the value, why it is refused and the range allowed.
    """
    lowest = "0 or more" if zero_ok else "above 0"
    if minimum_s is not None:
        lowest = f"of at least {minimum_s:g}"
    allowed = f"give a number of seconds {lowest} and at most {maximum_s:g}"
    seconds = _as_float(value)
    if seconds is None or not math.isfinite(seconds):
        raise ConfigError(f"{label} {value!r} is not a finite number; {allowed}.")
    too_low = seconds < 0 or (seconds == 0 and not zero_ok)
    if minimum_s is not None and seconds < minimum_s:
        too_low = True
    if too_low or seconds > maximum_s:
        raise ConfigError(f"{label} {value!r} is out of range; {allowed}.")
    return seconds


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
