"""The live latency table's counts while a run goes on."""

from __future__ import annotations

from netcase.tui.widgets.probe_views import _UplinkTally


def test_a_ping_the_host_refused_to_send_counts_as_sent_and_lost() -> None:
    tally = _UplinkTally()
    for status, rtt_ms in [("reply", 12.0), ("send_failed", None), ("timeout", None)]:
        tally.add(status, rtt_ms)

    cells = tally.cells()

    assert (cells["sent"], cells["received"], cells["loss"]) == ("3", "1", "67%")
