"""Live views of a throughput run and of a Wi-Fi link read."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from netcase.probes.result import ProbeResult
from netcase.tui.widgets.probe_sparkline import ZeroSparkline
from netcase.tui.widgets.probe_view import ProbeView

if TYPE_CHECKING:
    from netcase.probes.throughput import ThroughputProgress
    from netcase.probes.wifi import WifiProgress


class ThroughputView(ProbeView):
    """The rate of each second as a sparkline, and the running figure.

    Args:
        seconds: How long the transfer lasts at most.
    """

    DEFAULT_CSS = """
    ThroughputView > #rate {
        height: auto;
        padding: 0 1;
    }
    ThroughputView > ZeroSparkline {
        height: 4;
        margin: 0 1;
    }
    """

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def compose(self) -> ComposeResult:
        yield Static("Waiting for the first second…", id="rate", markup=False)
        yield ZeroSparkline(expected=math.ceil(self.seconds), id="per-second")
        yield Static(classes="probe-notes", markup=False)

    def show_progress(self, payload: Any) -> str:
        """Add one second's rate to the sparkline."""
        second: ThroughputProgress = payload
        sparkline = self.query_one("#per-second", ZeroSparkline)
        sparkline.data = (*sparkline.data, second.mbps)
        top_mbps = max(value or 0.0 for value in sparkline.data)
        self.query_one("#rate", Static).update(
            f"Second {second.second}: {second.mbps:.2f} Mbit/s, "
            f"{second.bytes_total / 1e6:.1f} MB so far "
            f"(bars: Mbit/s per second, 0 to {top_mbps:.1f})"
        )
        return f"second {second.second}"

    def show_result(self, result: ProbeResult) -> None:
        """Show each run's rate, or why it measured nothing."""
        runs = result.measurements["runs"]
        lines = [_run_line(run) for run in runs]
        self.query_one("#rate", Static).update("\n".join(lines))
        if runs:
            series = tuple(runs[-1]["per_second_mbps"])
            self.query_one("#per-second", ZeroSparkline).data = series
        self.note([run["note"] for run in runs if run["note"]])


def _run_line(run: dict[str, Any]) -> str:
    if run["error"]:
        return f"{run['target']}: nothing measured: {run['error']}"
    return (
        f"{run['target']}: {run['mbps']:.2f} Mbit/s, {run['bytes'] / 1e6:.1f} MB "
        f"in {run['seconds']:.1f} s (ended: {run['ended']})"
    )


WIFI_FIELDS = (
    ("interface", "Interface"),
    ("state", "State"),
    ("ssid", "SSID"),
    ("bssid", "BSSID"),
    ("signal_dbm", "Signal dBm"),
    ("signal_pct", "Signal %"),
    ("channel", "Channel"),
    ("band", "Band"),
    ("rx_rate_mbps", "Rx Mbit/s"),
    ("tx_rate_mbps", "Tx Mbit/s"),
    ("radio_type", "Radio"),
)


class WifiView(ProbeView):
    """The commands as they run, then the link's fields."""

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(cursor_type="row", show_header=False)
        table.add_column("Field", key="field")
        table.add_column("Value", key="value")
        yield table
        yield Static(classes="probe-notes", markup=False)

    def show_progress(self, payload: Any) -> str:
        """Say which command started or ended."""
        progress: WifiProgress = payload
        line = f"{progress.command}: {progress.event}"
        if progress.detail:
            line += f" ({progress.detail})"
        return line

    def show_result(self, result: ProbeResult) -> None:
        """List the link's fields, or say that no Wi-Fi link was found."""
        link = result.measurements["link"]
        table: DataTable[str] = self.query_one(DataTable)
        table.clear()
        for key, label in WIFI_FIELDS if link else ():
            value = link.get(key)
            table.add_row(label, "–" if value is None else str(value), key=key)
        notes = list(result.measurements["notes"])
        if not link:
            notes.insert(0, "No Wi-Fi interface was found in the reading.")
        self.note([f"Read from {result.measurements['source']}.", *notes])
