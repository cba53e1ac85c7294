"""Read the clock skew that a pasted apt error states.

apt refuses a repository's Release file when this machine's clock is earlier
than the file's ``Date:`` ("is not valid yet (invalid for another 1d 20h 3min
15s)"): the clock is behind by at least that much. It also refuses a file
past its ``Valid-Until:`` ("is expired (invalid since 2d 4h 0min 0s)"): the
clock is ahead by at least that much, or the mirror is stale. apt writes the
span as ``7d 3h 42min 1s`` and leaves out the larger units when they are zero.
"""

from __future__ import annotations

import re

from netcase.errors import ConfigError
from netcase.probes.clock_sources import ClockReading

NOT_VALID_YET = "not_valid_yet"
EXPIRED = "expired"

_MESSAGES = (
    (
        NOT_VALID_YET,
        re.compile(
            r"Release file for (?P<uri>\S+) is not valid yet "
            r"\(invalid for another (?P<span>[^)]*)\)",
            re.IGNORECASE,
        ),
    ),
    (
        EXPIRED,
        re.compile(
            r"Release file for (?P<uri>\S+) is expired \(invalid since (?P<span>[^)]*)\)",
            re.IGNORECASE,
        ),
    ),
    (
        EXPIRED,
        re.compile(
            r"Release file expired, ignoring (?P<uri>\S+) \(invalid since (?P<span>[^)]*)\)",
            re.IGNORECASE,
        ),
    ),
)
_SPAN = re.compile(
    r"(?:(?P<d>\d+)\s*d)?\s*(?:(?P<h>\d+)\s*h)?\s*"
    r"(?:(?P<min>\d+)\s*min)?\s*(?:(?P<s>\d+)\s*s)?",
    re.IGNORECASE,
)
_UNIT_S = {"d": 86_400, "h": 3_600, "min": 60, "s": 1}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def parse_span(text: str) -> int:
    """Turn apt's ``6d 2h 3min 4s`` (any of the parts) into seconds.

    Raises:
        ConfigError: When the text is not such a span.
    """
    match = _SPAN.fullmatch(text.strip())
    if not match or not any(match.groupdict().values()):
        raise ConfigError(
            f"The time span {text!r} is not in apt's form, such as '6d 2h 3min 4s'."
        )
    return sum(
        int(value) * _UNIT_S[unit]
        for unit, value in match.groupdict().items()
        if value is not None
    )


def apt_readings(text: str) -> list[ClockReading]:
    """Return one reading per apt "not valid yet" or "expired" message in ``text``.

    Line breaks from a terminal's wrapping are ignored; a message repeated
    for the same Release file counts once.

    Raises:
        ConfigError: When the text holds no such message, or holds apt's
            Chinese messages, which are not read.
    """
    flat = " ".join(text.split())
    readings: dict[str, ClockReading] = {}
    for kind, pattern in _MESSAGES:
        for match in pattern.finditer(flat):
            reading = _reading(kind, match.group("uri"), match.group("span"))
            readings.setdefault(f"{kind} {reading.reference}", reading)
    if not readings:
        raise ConfigError(_no_message(flat))
    return list(readings.values())


def _reading(kind: str, uri: str, span_text: str) -> ClockReading:
    span_s = parse_span(span_text)
    return ClockReading(
        "apt",
        "apt-error",
        uri,
        offset_s=float(span_s if kind == NOT_VALID_YET else -span_s),
        uncertainty_s=None,
        detail={"kind": kind, "stated": span_text.strip(), "lower_bound": True},
    )


def _no_message(flat: str) -> str:
    if _CJK.search(flat):
        # apt 1.7's zh_CN catalogue renders "not valid yet" as "已经过期"
        # (expired), so the direction cannot be read from Chinese output.
        return (
            "apt's Chinese messages are not read: their wording does not tell "
            "'not valid yet' from 'expired'. Run 'LC_ALL=C apt update' and paste "
            "the English 'E: Release file for ...' lines."
        )
    return (
        f"Found no apt 'Release file for ... is not valid yet' or '... is expired' "
        f"message in {flat[:80]!r}. Paste the 'E: Release file for ...' line as apt "
        "printed it."
    )
