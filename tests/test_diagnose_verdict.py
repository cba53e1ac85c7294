"""The verdict of a verification, per action kind, from saved and new findings."""

from __future__ import annotations

from typing import Any

from netcase.diagnose.verdict import measured_subjects, verification_record
from netcase.probes.findings import Finding, Severity

LOSS_ON_TELECOM = {
    "code": "uplink.loss",
    "severity": "warning",
    "summary": "telecom: 18% loss",
    "data": {"uplink": "telecom"},
}
SWITCH = {"kind": "switch_line", "params": {"to_uplink": "unicom"}}


def loss(uplink: str) -> Finding:
    return Finding(
        "uplink.loss", Severity.WARNING, f"{uplink}: 18% loss", {"uplink": uplink}
    )


def latency_result(*uplinks: str, error: str = "") -> dict[str, Any]:
    """A latency result's JSON shape, reduced to what the verdict reads."""
    return {
        "measurements": {
            "uplinks": [{"name": name, "error": error} for name in uplinks]
        },
        "findings": [],
    }


def test_switch_line_is_cleared_when_the_target_line_is_healthy_though_the_old_one_is_not() -> (
    None
):
    measured = measured_subjects([latency_result("telecom", "unicom")])

    record = verification_record(
        7, [LOSS_ON_TELECOM], {"uplink.loss"}, [loss("telecom")], measured, SWITCH
    )

    assert (record["verdict"], record["still_seen"]) == ("cleared", [])
    assert record["target"] == "unicom"


def test_switch_line_is_not_yet_while_the_target_line_shows_trouble() -> None:
    measured = measured_subjects([latency_result("telecom", "unicom")])
    slow = Finding(
        "uplink.slow", Severity.WARNING, "unicom: slow", {"uplink": "unicom"}
    )

    record = verification_record(
        7, [LOSS_ON_TELECOM], {"uplink.loss"}, [loss("unicom"), slow], measured, SWITCH
    )

    assert record["verdict"] == "not yet"
    assert record["still_seen"] == ["uplink.loss", "uplink.slow"]


def test_switch_line_cannot_tell_when_the_target_line_was_not_measured() -> None:
    measured = measured_subjects([latency_result("default")])

    record = verification_record(
        7, [LOSS_ON_TELECOM], {"uplink.loss"}, [], measured, SWITCH
    )

    assert (record["verdict"], record["unmeasured"]) == ("cannot tell", ["unicom"])


def test_an_uplink_whose_probe_failed_does_not_count_as_measured() -> None:
    measured = measured_subjects([latency_result("unicom", error="No route.")])

    record = verification_record(
        7, [LOSS_ON_TELECOM], {"uplink.loss"}, [], measured, SWITCH
    )

    assert record["verdict"] == "cannot tell"


def test_other_kinds_cannot_tell_when_the_faults_uplink_was_not_measured() -> None:
    measured = measured_subjects([latency_result("default")])
    escalate = {"kind": "escalate_to_isp", "params": {}}

    record = verification_record(
        7, [LOSS_ON_TELECOM], {"uplink.loss"}, [], measured, escalate
    )

    assert (record["verdict"], record["unmeasured"]) == ("cannot tell", ["telecom"])


def test_other_kinds_are_cleared_when_the_faults_uplink_was_measured_without_it() -> (
    None
):
    measured = measured_subjects([latency_result("telecom")])

    record = verification_record(7, [LOSS_ON_TELECOM], {"uplink.loss"}, [], measured)

    assert (record["verdict"], record["unmeasured"]) == ("cleared", [])


def test_a_dns_name_counts_as_measured_without_its_root_dot() -> None:
    lookups = {
        "measurements": {"lookups": [{"name": "WWW.Example.test.", "error": ""}]}
    }
    before = {
        **LOSS_ON_TELECOM,
        "code": "dns.split_horizon",
        "data": {"name": "www.example.test"},
    }

    record = verification_record(
        7, [before], {"dns.split_horizon"}, [], measured_subjects([lookups])
    )

    assert record["verdict"] == "cleared"
