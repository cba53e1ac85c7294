"""Reading and checking playbooks in case files."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbfiles import case_text
from netcase.cli import main
from netcase.diagnose.actions import ACTION_KINDS
from netcase.diagnose.playbook import load_playbook
from netcase.diagnose.values import PARAM_BOUNDS, PROBE_PARAM_KINDS
from netcase.errors import ConfigError
from netcase.kb.case import read_case
from netcase.probes.latency import LatencyParams
from netcase.probes.registry import probe_params
from netcase.site import Site

PROBES = {
    "dns": frozenset({"names", "timeout"}),
    "latency": frozenset({"target", "count"}),
}
KINDS = frozenset(ACTION_KINDS)

GOOD = """\
inputs:
  domain:
    default: www.example.test
    prompt: Domain
    prompt_zh: 域名
diagnose:
  - id: names
    probe: dns
    params:
      names: ["{domain}"]
  - id: reconnect
    manual: Reconnect
    manual_zh: 重连
evidence:
  supports:
    dns.split_horizon: 2
  rules_out: [dns.consistent]
actions:
  - id: escalate
    kind: escalate_to_isp
    when:
      all_of: [uplink.all_degraded]
    params:
      target: "{domain}"
      uplink: "{uplink.best.uplink}"
    text: Escalate
    text_zh: 报障
"""


def problems(front: str) -> list[tuple[int, str]]:
    text = case_text("sample-case").replace("created:", front + "created:", 1)
    case, found = read_case(Path("sample-case.md"), text)
    assert found == [] and case is not None
    _playbook, issues = load_playbook(case, PROBES, KINDS)
    return [(p.line, p.message) for p in issues]


def test_good_playbook_has_no_problems() -> None:
    text = case_text("sample-case").replace("created:", GOOD + "created:", 1)
    case, _ = read_case(Path("sample-case.md"), text)
    assert case is not None

    playbook, issues = load_playbook(case, PROBES, KINDS)

    assert issues == []
    assert [s.id for s in playbook.steps] == ["names", "reconnect"]
    assert playbook.steps[1].is_manual
    assert playbook.evidence.supports == {"dns.split_horizon": 2.0}
    assert playbook.actions[0].holds({"uplink.all_degraded"})
    assert not playbook.actions[0].holds(set())


def test_unknown_probe_is_reported_on_its_line() -> None:
    found = problems(GOOD.replace("probe: dns", "probe: dig"))

    assert found == [
        (17, "Unknown probe 'dig' in step 'names'; known probes: dns, latency.")
    ]


def test_unknown_parameter_of_a_probe_is_reported() -> None:
    found = problems(GOOD.replace("names: [", "hosts: ["))

    assert len(found) == 1 and "takes no parameter 'hosts'" in found[0][1]


def test_unknown_finding_code_is_reported_on_its_line() -> None:
    found = problems(GOOD.replace("dns.split_horizon: 2", "dns.splithorizon: 2"))

    assert found == [
        (
            25,
            "Unknown finding code 'dns.splithorizon'; see `netcase findings` for the list.",
        )
    ]


def test_unknown_input_in_a_lookup_is_reported() -> None:
    found = problems(GOOD.replace('names: ["{domain}"]', 'names: ["{domian}"]'))

    assert len(found) == 1 and "Unknown look-up {domian}" in found[0][1]


def test_unknown_action_kind_is_reported() -> None:
    found = problems(GOOD.replace("kind: escalate_to_isp", "kind: reboot_router"))

    assert len(found) == 1 and "Unknown action kind 'reboot_router'" in found[0][1]


@pytest.mark.parametrize("kind", ["[switch_line]", "{a: b}"])
def test_an_action_kind_that_is_not_text_is_reported_not_a_crash(kind: str) -> None:
    found = problems(GOOD.replace("kind: escalate_to_isp", f"kind: {kind}"))

    assert len(found) == 1 and "Unknown action kind" in found[0][1]


def test_retest_must_name_an_earlier_probe_step() -> None:
    front = GOOD.replace(
        "    manual_zh: 重连\n",
        "    manual_zh: 重连\n  - id: again\n    probe: dns\n    retest_of: nowhere\n",
    )

    assert any(
        "'retest_of' names 'nowhere'" in message for _line, message in problems(front)
    )


def test_manual_step_needs_both_languages() -> None:
    found = problems(GOOD.replace("    manual_zh: 重连\n", ""))

    assert any("needs 'manual' and 'manual_zh'" in message for _line, message in found)


def test_kb_check_reports_playbook_problems_as_path_line_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    front = GOOD.replace("dns.split_horizon: 2", "dns.nonsense: 2")
    text = case_text("sample-case").replace("created:", front + "created:", 1)
    (folder / "sample-case.md").write_text(text, encoding="utf-8")

    assert main(["kb", "check", str(folder)]) == 1

    out = capsys.readouterr().out
    assert f"{folder / 'sample-case.md'}:25: Unknown finding code 'dns.nonsense'" in out


LATENCY_STEP = """\
  - id: lines
    probe: latency
    params:
      target: "{domain}"
      count: forty
"""


def with_latency_step(count: str) -> str:
    return GOOD.replace(
        "  - id: reconnect\n",
        LATENCY_STEP.replace("forty", count) + "  - id: reconnect\n",
    )


def test_probe_parameter_of_the_wrong_type_is_reported_on_its_line() -> None:
    found = problems(with_latency_step("forty"))

    assert found == [
        (
            24,
            "The parameter 'count' of the probe 'latency' takes a whole number, "
            "not 'forty'.",
        )
    ]


@pytest.mark.parametrize("count", ["40", "'40'"])
def test_probe_parameter_of_the_right_type_passes(count: str) -> None:
    assert problems(with_latency_step(count)) == []


def test_probe_parameter_from_a_text_input_where_a_number_is_needed_is_reported() -> (
    None
):
    found = problems(with_latency_step('"{domain}"'))

    assert found == [
        (
            24,
            "The parameter 'count' of the probe 'latency' takes one {input} of "
            "kind int, not '{domain}'.",
        )
    ]


def test_two_actions_with_the_same_id_are_reported() -> None:
    action = GOOD[GOOD.index("  - id: escalate\n") :]

    found = problems(GOOD + action)

    assert found == [(37, "The action id 'escalate' is used twice.")]


def test_name_input_default_that_is_no_dns_name_is_reported() -> None:
    found = problems(
        GOOD.replace("default: www.example.test", "default: x;y").replace(
            "    prompt_zh: 域名\n", "    prompt_zh: 域名\n    kind: name\n"
        )
    )

    assert found == [
        (
            12,
            "The input domain must be a DNS name of letters, digits, '-' and '.' "
            "(such as www.example.com), not 'x;y'. Change its default.",
        )
    ]


def test_kb_check_reports_a_wrong_probe_parameter_type_as_path_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    text = case_text("sample-case").replace(
        "created:", with_latency_step("forty") + "created:", 1
    )
    (folder / "sample-case.md").write_text(text, encoding="utf-8")

    assert main(["kb", "check", str(folder)]) == 1

    out = capsys.readouterr().out
    assert (
        f"{folder / 'sample-case.md'}:24: The parameter 'count' of the probe "
        "'latency' takes a whole number, not 'forty'." in out
    )


def test_every_typed_probe_parameter_is_one_the_probe_takes() -> None:
    taken = probe_params()

    for probe, kinds in PROBE_PARAM_KINDS.items():
        assert set(kinds) <= taken[probe], probe


@pytest.mark.parametrize(
    ("count", "words"),
    [
        ("-5", "between 1 and 65536, not -5"),
        ("0", "between 1 and 65536, not 0"),
        ("65537", "between 1 and 65536, not 65537"),
    ],
)
def test_probe_count_out_of_the_probes_range_is_reported_on_its_line(
    count: str, words: str
) -> None:
    found = problems(with_latency_step(count))

    assert found == [
        (24, f"The parameter 'count' of the probe 'latency' must be {words}.")
    ]


def test_probe_timeout_of_zero_or_less_is_reported_on_its_line() -> None:
    found = problems(
        GOOD.replace('names: ["{domain}"]', 'names: ["{domain}"]\n      timeout: -1')
    )

    assert found == [
        (
            20,
            "The parameter 'timeout' of the probe 'dns' must be above 0 and at most 60, not -1.",
        )
    ]


def test_the_count_bounds_are_the_ones_the_latency_probe_enforces() -> None:
    bounds = PARAM_BOUNDS[("latency", "count")]

    LatencyParams(
        "127.0.0.1", Site().uplinks, count=int(bounds.high or 0), interval_s=0.01
    )
    with pytest.raises(ConfigError, match="count"):
        LatencyParams("127.0.0.1", Site().uplinks, count=int(bounds.high or 0) + 1)
    with pytest.raises(ConfigError, match="count"):
        LatencyParams("127.0.0.1", Site().uplinks, count=int(bounds.low) - 1)


@pytest.mark.parametrize("weight", [".nan", ".inf", "-.inf", "1.0e+308", "101"])
def test_evidence_weight_outside_0_to_100_is_reported_on_its_line(
    weight: str,
) -> None:
    found = problems(
        GOOD.replace("dns.split_horizon: 2", f"dns.split_horizon: {weight}")
    )

    assert len(found) == 1
    line, message = found[0]
    assert line == 25
    assert message.startswith(
        "The weight of 'dns.split_horizon' must be a number above 0 and at most "
        "100, not "
    )


def test_kb_check_reports_a_count_out_of_range_as_path_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    text = case_text("sample-case").replace(
        "created:", with_latency_step("-5") + "created:", 1
    )
    (folder / "sample-case.md").write_text(text, encoding="utf-8")

    assert main(["kb", "check", str(folder)]) == 1

    out = capsys.readouterr().out
    assert (
        f"{folder / 'sample-case.md'}:24: The parameter 'count' of the probe "
        "'latency' must be between 1 and 65536, not -5." in out
    )


def test_probe_timeout_past_the_probes_ceiling_is_reported_on_its_line() -> None:
    found = problems(
        GOOD.replace('names: ["{domain}"]', 'names: ["{domain}"]\n      timeout: 3600')
    )

    assert [message for _line, message in found] == [
        "The parameter 'timeout' of the probe 'dns' must be above 0 and at most 60, "
        "not 3600."
    ]


def test_a_ping_series_planned_past_an_hour_is_reported_on_the_count() -> None:
    # 20,000 pings at the default 0.2 s would take 4,000 s.
    found = problems(with_latency_step("20000"))

    assert [message for _line, message in found] == [
        "The latency step's 20000 pings every 0.2 s would take 4000 s, over the "
        "3600 s a series may last; give a smaller count or a shorter interval."
    ]
