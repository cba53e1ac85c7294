"""Live views of the DNS comparison and of per-uplink latency.

DNS rows appear as each lookup ends; each uplink's row and sparkline of RTTs
grow with every sample.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import DataTable, Label, Static

from netcase.probes.latency_series import ANSWERED
from netcase.probes.result import ProbeResult
from netcase.site import Uplink
from netcase.tui.widgets.probe_sparkline import ZeroSparkline
from netcase.tui.widgets.probe_view import ProbeView, cut, ms_text

if TYPE_CHECKING:
    from netcase.probes.dnscompare import LookupFinished
    from netcase.probes.latency import LatencyProgress

ANSWERS_WIDTH = 36
NAME_WIDTH = 28
STATUS_STYLES = {"answer": "green", "nodata": "dim", "nxdomain": "yellow"}
"""Colours of DNS lookup statuses; any other status is a failure, in red."""


class DnsView(ProbeView):
    """A row per resolver, name and record type, added as each lookup ends."""

    def compose(self) -> ComposeResult:
        table: DataTable[str | Text] = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_column("Resolver", key="resolver")
        table.add_column("Name", key="name")
        table.add_column("Type", key="type")
        table.add_column("Status", key="status")
        table.add_column("RTT ms", key="rtt")
        table.add_column("Answers", key="answers")
        yield table
        yield Static(classes="probe-notes", markup=False)

    def show_progress(self, payload: Any) -> str:
        """Add the finished lookup's row."""
        finished: LookupFinished = payload
        self._add(finished.lookup.to_json(), finished.canary)
        return f"{finished.done} of {finished.total} lookups done"

    def show_result(self, result: ProbeResult) -> None:
        """Add any lookup whose progress never arrived."""
        for lookup in result.measurements["lookups"]:
            self._add(lookup, canary=False)
        for lookup in result.measurements["canaries"]:
            self._add(lookup, canary=True)

    def _add(self, lookup: dict[str, Any], canary: bool) -> None:
        table = self.query_one(DataTable)
        key = "|".join([lookup["resolver"], lookup["name"], lookup["type"]])
        if key in table.rows:
            return
        name = _random_name(lookup["name"]) if canary else lookup["name"]
        table.add_row(
            f"{lookup['resolver']} {lookup['role'][:3]}",
            cut(name, NAME_WIDTH),
            lookup["type"],
            Text(lookup["status"], style=STATUS_STYLES.get(lookup["status"], "red")),
            ms_text(lookup["rtt_ms"]),
            cut(_answers(lookup), ANSWERS_WIDTH),
            key=key,
        )


def _random_name(name: str) -> str:
    """Show the hijack check's random name by its parent, which is what it tests."""
    parent = name.partition(".")[2]
    return f"(random).{parent}" if parent else "(random)"


def _answers(lookup: dict[str, Any]) -> str:
    addresses = sorted(answer["address"] for answer in lookup["answers"])
    if addresses:
        return ", ".join(addresses)
    return str(lookup["error"] or lookup["rcode"] or "")


class _UplinkTally:
    """The samples of one uplink so far."""

    def __init__(self) -> None:
        self.statuses: list[str] = []
        self.rtts_ms: list[float] = []
        self.series_ms: list[float | None] = []
        """Every sample's RTT in arrival order, None where it was lost."""

    def add(self, status: str, rtt_ms: float | None) -> None:
        self.statuses.append(status)
        self.series_ms.append(rtt_ms)
        if rtt_ms is not None:
            self.rtts_ms.append(rtt_ms)

    def clear(self) -> None:
        self.statuses.clear()
        self.rtts_ms.clear()
        self.series_ms.clear()

    def cells(self) -> dict[str, str]:
        # A probe the host refused to send still counts, as a loss.
        sent = len(self.statuses)
        received = sum(1 for status in self.statuses if status in ANSWERED)
        loss = f"{100 * (sent - received) / sent:.0f}%" if sent else "–"
        last = self.rtts_ms[-1] if self.rtts_ms else None
        median = statistics.median(self.rtts_ms) if self.rtts_ms else None
        return {
            "sent": str(sent),
            "received": str(received),
            "loss": loss,
            "last": ms_text(last),
            "median": ms_text(median),
        }


class LatencyView(ProbeView):
    """A row and a sparkline of RTTs per uplink, updated with every sample.

    Args:
        uplinks: The uplinks the run measures, in the order to show them.
        count: How many samples each uplink will take.
    """

    DEFAULT_CSS = """
    LatencyView > .uplink-line {
        height: 1;
    }
    LatencyView > .uplink-line > Label {
        width: 12;
        padding: 0 1;
        color: $text-muted;
    }
    LatencyView > .uplink-line > ZeroSparkline {
        width: 1fr;
        margin-right: 1;
    }
    LatencyView > #rtt-scale {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def __init__(self, uplinks: Sequence[Uplink], count: int) -> None:
        super().__init__()
        self.uplinks = list(uplinks)
        self.count = count
        self.tallies = {uplink.name: _UplinkTally() for uplink in self.uplinks}

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(cursor_type="row")
        for label, key in [
            ("Uplink", "uplink"),
            ("Source", "source"),
            ("Sent", "sent"),
            ("Recv", "received"),
            ("Loss", "loss"),
            ("Last ms", "last"),
            ("Median ms", "median"),
            ("TLS ms", "tls"),
        ]:
            table.add_column(label, key=key)
        for uplink in self.uplinks:
            cells = self.tallies[uplink.name].cells()
            source = uplink.source or "default"
            table.add_row(uplink.name, source, *cells.values(), "–", key=uplink.name)
        yield table
        yield Static("RTT of each sample, bars from 0 ms", id="rtt-scale")
        for index, uplink in enumerate(self.uplinks):
            with Horizontal(classes="uplink-line"):
                yield Label(cut(uplink.name, 10), markup=False)
                yield ZeroSparkline(expected=self.count, id=f"rtt-{index}")
        yield Static(classes="probe-notes", markup=False)

    def show_progress(self, payload: Any) -> str:
        """Count the sample, or show the TLS timing, of one uplink."""
        progress: LatencyProgress = payload
        if progress.handshake is not None:
            timing = progress.handshake
            tls = "failed" if timing.error else ms_text(timing.tls_ms)
            self._cell(progress.uplink, "tls", tls)
            return f"{progress.uplink}: TLS handshake timed"
        if progress.sample is not None:
            sample = progress.sample
            self.tallies[progress.uplink].add(sample.status, sample.rtt_ms)
            self._refresh_uplink(progress.uplink)
        done = sum(len(tally.statuses) for tally in self.tallies.values())
        return f"{done} samples ({progress.method})"

    def show_result(self, result: ProbeResult) -> None:
        """Replace the tallies by the result's own samples; list errors and notes."""
        notes = [result.measurements["note"]] if result.measurements["note"] else []
        for outcome in result.measurements["uplinks"]:
            tally = self.tallies.setdefault(outcome["name"], _UplinkTally())
            tally.clear()
            for sample in outcome["samples"]:
                tally.add(sample["status"], sample["rtt_ms"])
            self._refresh_uplink(outcome["name"])
            if outcome["error"]:
                notes.append(f"{outcome['name']}: {outcome['error']}")
        self.note(notes)

    def _refresh_uplink(self, name: str) -> None:
        if name not in [uplink.name for uplink in self.uplinks]:
            return
        tally = self.tallies[name]
        for key, value in tally.cells().items():
            self._cell(name, key, value)
        index = [uplink.name for uplink in self.uplinks].index(name)
        self.query_one(f"#rtt-{index}", ZeroSparkline).data = tuple(tally.series_ms)
        self._share_scale()

    def _share_scale(self) -> None:
        """Draw every uplink's bars against the slowest sample of any of them."""
        slowest_ms = max(
            (max(t.rtts_ms) for t in self.tallies.values() if t.rtts_ms), default=None
        )
        for sparkline in self.query(ZeroSparkline):
            sparkline.ceiling = slowest_ms
        if slowest_ms is not None:
            scale = f"RTT of each sample, bars from 0 to {ms_text(slowest_ms)} ms"
            self.query_one("#rtt-scale", Static).update(f"{scale}; × lost")

    def _cell(self, uplink: str, key: str, value: str) -> None:
        table: DataTable[str] = self.query_one(DataTable)
        table.update_cell(uplink, key, value, update_width=True)
