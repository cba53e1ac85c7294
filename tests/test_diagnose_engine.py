"""The diagnosis engine with stand-in probes: stages, re-tests, ranking, actions, sessions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO_KB
from kbfiles import case_text
from netcase.diagnose.actions import ACTION_KINDS, render_action
from netcase.diagnose.engine import DiagnosisEngine, nothing_measured
from netcase.diagnose.inputs import resolve_inputs
from netcase.diagnose.playbook import Playbook, Step, load_playbook
from netcase.diagnose.session import SessionStore
from netcase.diagnose.verdict import verification_record
from netcase.errors import ConfigError
from netcase.kb.case import Case, read_case
from netcase.probes.findings import Finding, Severity
from netcase.probes.registry import ProbeSpec, probe_params
from netcase.probes.result import ProbeResult
from netcase.probes.wifi import compare_links
from netcase.probes.wifilink import WifiLink
from netcase.site import Site, Uplink
from netcase.store import make_engine

PLAYBOOK = """\
inputs:
  domain: {default: www.example.test, prompt: Domain, prompt_zh: 域名, kind: name}
  user_ip: {prompt: User IP, prompt_zh: 用户 IP, kind: ip}
diagnose:
  - {id: names, probe: fake_dns, params: {name: "{domain}"}}
  - {id: lines, probe: fake_lines, params: {target: "{domain}"}}
  - {id: ask, manual: Reconnect Wi-Fi, manual_zh: 重连 Wi-Fi}
  - {id: lines-again, probe: fake_lines, params: {target: "{domain}"}, retest_of: lines}
evidence:
  supports: {uplink.loss: 3, uplink.best: 1}
  rules_out: [dns.split_horizon]
  cause: The ISP line
  cause_zh: 运营商线路
actions:
  - id: move-user
    kind: switch_line
    when: {all_of: [uplink.loss, uplink.best], none_of: [uplink.all_degraded]}
    params: {user_ip: "{user_ip}", to_uplink: "{uplink.best.uplink}"}
    text: Move {user_ip} to {uplink.best.uplink}
    text_zh: 把 {user_ip} 切到 {uplink.best.uplink}
"""


def make_case(case_id: str, front: str) -> Case:
    text = case_text(case_id).replace("created:", front + "created:", 1)
    case, problems = read_case(Path(f"{case_id}.md"), text)
    assert problems == [], problems
    assert case is not None
    return case


def finding(code: str, summary: str, **data: Any) -> Finding:
    return Finding(code, Severity.WARNING, summary, data)


class FakeProbes:
    """Probes that answer with chosen findings and note how they were called."""

    def __init__(
        self,
        dns_codes: list[Finding],
        line_codes: list[Finding],
        dns_ends_last: bool = False,
    ) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.running = 0
        self.most_running = 0
        self.dns_codes, self.line_codes = dns_codes, line_codes
        self.dns_ends_last = dns_ends_last
        self.lines_ended = asyncio.Event()

    def spec(self, name: str, findings: list[Finding]) -> ProbeSpec:
        async def run(params: dict[str, Any], site: Site, progress: Any) -> ProbeResult:
            self.calls.append((name, params))
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            if name == "fake_dns" and self.dns_ends_last:
                await self.lines_ended.wait()
            self.running -= 1
            if name == "fake_lines":
                self.lines_ended.set()
            return ProbeResult(name, datetime.now(UTC), 0.0, params, {}, list(findings))

        def compare(
            before: ProbeResult, after: ProbeResult, site: Site
        ) -> list[Finding]:
            return [finding("throughput.unchanged", "compared")]

        return ProbeSpec(name, frozenset({"name", "target"}), run, compare)

    @property
    def specs(self) -> dict[str, ProbeSpec]:
        return {
            "fake_dns": self.spec("fake_dns", self.dns_codes),
            "fake_lines": self.spec("fake_lines", self.line_codes),
        }


LOSSY_LINES = [
    finding("uplink.loss", "telecom: 30% loss, median 310 ms", uplink="telecom"),
    finding("uplink.best", "unicom: 0% loss, median 42 ms", uplink="unicom"),
]
SITE = Site(
    name="lab",
    uplinks=(
        Uplink("telecom", "Telecom"),
        Uplink("unicom", "Unicom", interface="wan2"),
    ),
    router="linux",
)


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(make_engine(f"sqlite:///{tmp_path / 'sessions.db'}"))


def build(fakes: FakeProbes, store: SessionStore) -> tuple[DiagnosisEngine, Playbook]:
    case = make_case("line-case", PLAYBOOK)
    playbook, problems = load_playbook(
        case,
        {name: spec.params for name, spec in fakes.specs.items()},
        frozenset(ACTION_KINDS),
    )
    assert problems == []
    other = make_case("dns-case", "evidence: {supports: {dns.split_horizon: 4}}\n")
    other_book, _ = load_playbook(other, {}, frozenset(ACTION_KINDS))
    cases = {case.id: case, other.id: other}
    engine = DiagnosisEngine(
        SITE, cases, {case.id: playbook, other.id: other_book}, store, fakes.specs
    )
    return engine, playbook


async def always_done(step: Step) -> bool:
    return True


async def test_probe_steps_between_manual_steps_run_together(
    store: SessionStore,
) -> None:
    fakes = FakeProbes([finding("dns.consistent", "agree")], LOSSY_LINES)
    engine, playbook = build(fakes, store)

    result = await engine.run(
        playbook, resolve_inputs(playbook, {"user_ip": "10.0.3.27"}), always_done
    )

    assert fakes.most_running == 2
    assert [o.step.id for o in result.steps][2:] == ["ask", "lines-again"]
    assert fakes.calls[0][1] in (
        {"name": "www.example.test"},
        {"target": "www.example.test"},
    )


async def test_lossy_line_proposes_switch_line_to_the_best_uplink_with_numbers(
    store: SessionStore,
) -> None:
    fakes = FakeProbes([finding("dns.consistent", "agree")], LOSSY_LINES)
    engine, playbook = build(fakes, store)

    result = await engine.run(
        playbook, resolve_inputs(playbook, {"user_ip": "10.0.3.27"}), always_done
    )

    assert result.causes[0].case_id == "line-case"
    card = result.actions[0]
    assert card.kind == "switch_line"
    assert card.params["to_uplink"] == "unicom"
    assert "30% loss" in card.reason and "0% loss" in card.reason
    assert "ip rule add from 10.0.3.27/32 lookup wan_unicom" in card.snippets["linux"]
    assert "Unicom" in card.notice["en"] and "Unicom" in card.notice["zh"]
    assert card.verify == ["lines", "lines-again"]


async def test_a_line_another_step_found_degraded_is_never_the_switch_target(
    store: SessionStore,
) -> None:
    # The first step's pings call telecom best; the next step's handshakes
    # through telecom fail. The user must not be moved to telecom.
    pings = [finding("uplink.best", "telecom: median 20 ms", uplink="telecom")]
    handshakes = [
        finding("uplink.handshake_failed", "telecom: TLS reset", uplink="telecom"),
        finding("uplink.loss", "telecom: 30% loss", uplink="telecom"),
        finding("uplink.best", "unicom: 0.21 s", uplink="unicom"),
    ]
    engine, playbook = build(FakeProbes(pings, handshakes), store)

    result = await engine.run(
        playbook, resolve_inputs(playbook, {"user_ip": "10.0.3.27"}), always_done
    )

    assert result.actions[0].params["to_uplink"] == "unicom"


async def test_findings_are_kept_in_playbook_order_whichever_step_ends_first(
    store: SessionStore,
) -> None:
    fakes = FakeProbes(
        [finding("dns.consistent", "agree")], LOSSY_LINES, dns_ends_last=True
    )
    engine, playbook = build(fakes, store)

    result = await engine.run(
        playbook, resolve_inputs(playbook, {"user_ip": "10.0.3.27"}), always_done
    )

    assert [outcome.step.id for outcome in result.steps][:2] == ["lines", "names"]
    order = [f.code for f in result.findings]
    assert order[:3] == ["dns.consistent", "uplink.loss", "uplink.best"]


async def test_split_horizon_rules_the_line_case_out_and_names_why(
    store: SessionStore,
) -> None:
    fakes = FakeProbes(
        [finding("dns.split_horizon", "internal 10.1.1.1, external 203.0.113.5")],
        LOSSY_LINES,
    )
    engine, playbook = build(fakes, store)

    result = await engine.run(
        playbook, resolve_inputs(playbook, {"user_ip": "10.0.3.27"}), always_done
    )

    assert result.causes[0].case_id == "dns-case"
    assert result.causes[-1].case_id == "line-case" and result.causes[-1].ruled_out
    assert result.ruled_out == [
        "The ISP line is not the cause: internal 10.1.1.1, external 203.0.113.5"
    ]
    assert all(card.kind != "switch_line" for card in result.actions)


async def test_retest_step_is_compared_with_the_step_it_repeats(
    store: SessionStore,
) -> None:
    engine, playbook = build(FakeProbes([], LOSSY_LINES), store)

    result = await engine.run(
        playbook, resolve_inputs(playbook, {"user_ip": "10.0.3.27"}), always_done
    )

    retest = next(o for o in result.steps if o.step.id == "lines-again")
    assert retest.result is not None
    assert "throughput.unchanged" in retest.result.codes()


async def test_every_step_is_in_the_session_as_it_ends(store: SessionStore) -> None:
    engine, playbook = build(FakeProbes([], LOSSY_LINES), store)
    seen: list[int] = []

    async def ask(step: Step) -> bool:
        session = store.history(1)[0]
        assert session.id is not None
        seen.append(len(store.load(session.id)[1]))
        return False

    result = await engine.run(
        playbook, resolve_inputs(playbook, {"user_ip": "10.0.3.27"}), ask
    )

    assert seen == [2]
    row, steps = store.load(result.session_id)
    assert row.status == "finished"
    assert [s.status for s in steps] == ["done", "done", "skipped", "skipped"]
    assert steps[0].result is not None and steps[0].result["probe"] in (
        "fake_dns",
        "fake_lines",
    )


async def test_retest_is_skipped_naming_the_skipped_manual_step_and_not_compared(
    store: SessionStore,
) -> None:
    engine, playbook = build(FakeProbes([], LOSSY_LINES), store)
    asked: list[str] = []

    async def skip(step: Step) -> bool:
        asked.append(step.id)
        return False

    result = await engine.run(
        playbook, resolve_inputs(playbook, {"user_ip": "10.0.3.27"}), skip
    )

    retest = next(o for o in result.steps if o.step.id == "lines-again")
    assert (retest.status, retest.result) == ("skipped", None)
    assert retest.error == (
        "not run: the manual step ask it re-tests after was skipped"
    )
    assert "throughput.unchanged" not in {f.code for f in result.findings}
    assert asked == ["ask"]


async def test_cancelled_diagnosis_keeps_measured_steps_and_is_marked_interrupted(
    store: SessionStore,
) -> None:
    engine, playbook = build(FakeProbes([], LOSSY_LINES), store)

    async def never(step: Step) -> bool:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await engine.run(
            playbook, resolve_inputs(playbook, {"user_ip": "10.0.3.27"}), never
        )

    row = store.history(1)[0]
    assert row.id is not None
    assert row.status == "interrupted"
    assert len(store.load(row.id)[1]) == 2
    assert {f["code"] for f in row.findings} == {"uplink.loss", "uplink.best"}


def test_bad_input_value_is_refused_naming_it() -> None:
    case = make_case("line-case", PLAYBOOK)
    playbook, _ = load_playbook(
        case,
        {"fake_dns": frozenset({"name"}), "fake_lines": frozenset({"target"})},
        frozenset(ACTION_KINDS),
    )

    with pytest.raises(
        ConfigError, match="user_ip must be an IP address, not '10.0.0.999'"
    ):
        resolve_inputs(playbook, {"user_ip": "10.0.0.999"})
    with pytest.raises(ConfigError, match="has no input 'colour'"):
        resolve_inputs(playbook, {"colour": "red"})


async def test_mixed_dns_answers_do_not_rule_out_a_case_supported_by_the_same_probe(
    store: SessionStore,
) -> None:
    dns_findings = [
        finding("dns.split_horizon", "internal 10.1.1.1, external 203.0.113.5"),
        finding("dns.consistent", "agree on the other name"),
    ]
    case = make_case(
        "line-case",
        PLAYBOOK.replace("uplink.best: 1}", "uplink.best: 1, dns.consistent: 1}"),
    )
    fakes = FakeProbes(dns_findings, LOSSY_LINES)
    playbook, _ = load_playbook(
        case, {n: s.params for n, s in fakes.specs.items()}, frozenset(ACTION_KINDS)
    )
    engine = DiagnosisEngine(
        SITE, {case.id: case}, {case.id: playbook}, store, fakes.specs
    )

    result = await engine.run(
        playbook, resolve_inputs(playbook, {"user_ip": "10.0.3.27"}), always_done
    )

    assert not result.causes[0].ruled_out
    assert result.ruled_out == []


async def test_manual_instruction_is_shown_with_the_inputs_filled_in(
    store: SessionStore,
) -> None:
    fakes = FakeProbes([], LOSSY_LINES)
    case = make_case(
        "line-case",
        PLAYBOOK.replace(
            "manual: Reconnect Wi-Fi", "manual: 'Flush {domain} then {user_ip}'"
        ),
    )
    playbook, problems = load_playbook(
        case, {n: s.params for n, s in fakes.specs.items()}, frozenset(ACTION_KINDS)
    )
    assert problems == []
    engine = DiagnosisEngine(
        SITE, {case.id: case}, {case.id: playbook}, store, fakes.specs
    )
    shown: list[str] = []

    async def ask(step: Step) -> bool:
        shown.append(step.text)
        return True

    await engine.run(playbook, resolve_inputs(playbook, {}), ask)

    assert shown == ["Flush www.example.test then <user_ip>"]


TRANSFER_PLAYBOOK = """\
inputs:
  ftp_url: {prompt: Transfer URL, prompt_zh: 传输地址, kind: url}
  seconds: {default: "10", prompt: Seconds, prompt_zh: 秒数, kind: int}
diagnose:
  - {id: transfer, probe: fake_lines, params: {target: "{ftp_url}"}}
"""


def transfer_playbook() -> Playbook:
    case = make_case("transfer-case", TRANSFER_PLAYBOOK)
    playbook, problems = load_playbook(
        case, {"fake_lines": frozenset({"target"})}, frozenset(ACTION_KINDS)
    )
    assert problems == []
    return playbook


@pytest.mark.parametrize("seconds", ["0", "-5", "+5", "1_000", "2.5", "ten"])
def test_int_input_must_be_a_whole_number_above_zero(seconds: str) -> None:
    expected = (
        f"The input seconds must be a whole number greater than 0, not '{seconds}'."
    )

    with pytest.raises(ConfigError) as raised:
        resolve_inputs(transfer_playbook(), {"seconds": seconds})

    assert raised.value.message == expected


def test_int_input_above_zero_is_kept() -> None:
    values = resolve_inputs(transfer_playbook(), {"seconds": " 30 "})

    assert values["seconds"] == "30"


@pytest.mark.parametrize(
    "url",
    ["notaurl", "127.0.0.1/big.bin", "file:///etc/passwd", "ftp://", "http://a b/"],
)
def test_url_input_needs_an_http_https_or_ftp_scheme(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve_inputs(transfer_playbook(), {"ftp_url": url})

    assert raised.value.message == (
        "The input ftp_url must be a URL starting with http://, https://, ftp:// "
        f"and without spaces, not {url!r}."
    )


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/big.bin", "http://127.0.0.1:8000/x", "HTTPS://files.test/"]
)
def test_url_input_with_a_known_scheme_is_kept(url: str) -> None:
    assert resolve_inputs(transfer_playbook(), {"ftp_url": url})["ftp_url"] == url


def name_playbook() -> Playbook:
    case = make_case("name-case", PLAYBOOK)
    playbook, problems = load_playbook(
        case,
        {"fake_dns": frozenset({"name"}), "fake_lines": frozenset({"target"})},
        frozenset(ACTION_KINDS),
    )
    assert problems == []
    return playbook


@pytest.mark.parametrize(
    "domain",
    ["x;y", "a b.example", "-lead.example", "a..b", "x" * 64 + ".test", "$(id)"],
)
def test_name_input_that_is_no_dns_name_is_refused(domain: str) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve_inputs(name_playbook(), {"domain": domain})

    assert raised.value.message == (
        "The input domain must be a DNS name of letters, digits, '-' and '.' "
        f"(such as www.example.com), not {domain!r}."
    )


@pytest.mark.parametrize(
    "domain",
    [
        "www.paypalobjects.com",
        "www.example.test.",
        "例子.测试",
        "xn--fsqu00a.test",
        "10.0.0.1",
        "::1",
    ],
)
def test_name_input_that_is_a_dns_name_or_an_address_is_kept(domain: str) -> None:
    assert resolve_inputs(name_playbook(), {"domain": domain})["domain"] == domain


@pytest.mark.parametrize("seconds", ["99999", "0", "-5"])
async def test_throughput_step_refuses_seconds_beyond_the_cli_bounds(
    seconds: str,
) -> None:
    from netcase.cli.probe_throughput import MAX_SECONDS
    from netcase.probes.registry import MAX_THROUGHPUT_SECONDS, PROBES

    params = {"url": "http://127.0.0.1:9/big.bin", "seconds": seconds}

    with pytest.raises(ConfigError, match=f"seconds '{seconds}' is out of range"):
        await PROBES["throughput"].run(params, SITE, None)

    assert MAX_THROUGHPUT_SECONDS == MAX_SECONDS == 600


# Action texts and snippets.


@pytest.mark.parametrize(
    ("label", "line"),
    [
        ("Line B", "the Line B because"),
        ("Unicom LINE", "the Unicom LINE because"),
        ("联通线路", "the 联通线路 because"),
        ("Unicom", "the Unicom line because"),
    ],
)
def test_switch_line_notice_names_the_line_once(label: str, line: str) -> None:
    site = Site(name="lab", uplinks=(Uplink("unicom", label),), router="generic")

    rendered = render_action(
        "switch_line", {"user_ip": "10.0.3.27", "to_uplink": "unicom"}, site
    )

    assert f"moved your internet exit to {line}" in rendered.notice["en"]
    assert " line line" not in rendered.snippets["generic"].lower()


def test_switch_line_without_user_ip_uses_the_template_placeholder() -> None:
    rendered = render_action("switch_line", {"to_uplink": "unicom"}, SITE)

    assert "from <user_ip>/32" in rendered.snippets["linux"]
    assert all("<user-ip>" not in text for text in rendered.snippets.values())
    assert rendered.missing == ["user_ip"]


@pytest.mark.parametrize(
    ("params", "connect", "missing"),
    [
        ({"ssid": "会议室-5G"}, 'name="会议室-5G"', []),
        ({}, 'name="<SSID>"', ["ssid"]),
        ({"ssid": 'Office" & calc'}, 'name="<SSID>"', ["ssid"]),
        ({"ssid": "%PATH%"}, 'name="<SSID>"', ["ssid"]),
        ({"ssid": "x" * 33}, 'name="<SSID>"', ["ssid"]),
    ],
)
def test_reconnect_wifi_snippet_names_a_safe_ssid_or_keeps_the_placeholder(
    params: dict[str, Any], connect: str, missing: list[str]
) -> None:
    rendered = render_action("reconnect_wifi_then_retry", params, SITE)

    assert rendered.snippets["windows"].endswith(f"netsh wlan connect {connect}")
    assert rendered.missing == missing


async def test_reconnect_card_takes_the_ssid_from_the_roam_finding(
    store: SessionStore,
) -> None:
    roam = finding(
        "wifi.roamed", "wlan0 on Office: BSSID a -> b", ssid="Office", bssid_after="b"
    )
    fakes = FakeProbes([roam], [finding("throughput.recovered_after_reconnect", "x")])
    case = make_case(
        "wifi-case",
        """\
diagnose:
  - {id: link, probe: fake_dns, params: {name: wlan0}}
  - {id: transfer, probe: fake_lines, params: {target: ftp.test}}
actions:
  - id: reconnect
    kind: reconnect_wifi_then_retry
    when: {all_of: [throughput.recovered_after_reconnect]}
    params: {ssid: "{wifi.roamed.ssid}"}
    text: Reconnect
    text_zh: 重连
""",
    )
    playbook, problems = load_playbook(
        case, {n: s.params for n, s in fakes.specs.items()}, frozenset(ACTION_KINDS)
    )
    assert problems == []
    engine = DiagnosisEngine(
        SITE, {case.id: case}, {case.id: playbook}, store, fakes.specs
    )

    result = await engine.run(playbook, {}, always_done)

    (card,) = result.actions
    assert card.snippets["windows"].endswith('netsh wlan connect name="Office"')
    assert card.missing == []


def test_wifi_case_takes_the_ssid_from_a_key_the_roam_finding_carries() -> None:
    path = REPO_KB / "wifi-roaming-ftp-slowdown.md"
    case, _ = read_case(path, path.read_text(encoding="utf-8"))
    assert case is not None
    playbook, _ = load_playbook(case, probe_params(), frozenset(ACTION_KINDS))
    before = WifiLink(
        interface="wlan0", ssid="Office", bssid="aa:00:00:00:00:01", connected=True
    )
    after = WifiLink(
        interface="wlan0", ssid="Office", bssid="aa:00:00:00:00:02", connected=True
    )

    (roam,) = compare_links(before, after)

    (action,) = playbook.actions
    assert action.params["ssid"] == "{wifi.roamed.ssid}"
    assert roam.data["ssid"] == "Office"


ESCALATE_PLAYBOOK = """\
diagnose:
  - {id: names, probe: fake_dns, params: {name: www.example.test}}
  - {id: lines, probe: fake_lines, params: {target: www.example.test}}
actions:
  - id: escalate
    kind: escalate_to_isp
    when: {all_of: [uplink.all_degraded]}
    params: {target: www.example.test, uplink: every line}
    text: Open a ticket
    text_zh: 报障
"""


async def test_escalation_ticket_carries_the_measured_numbers_of_every_uplink(
    store: SessionStore,
) -> None:
    lines = [
        finding("uplink.loss", "telecom: 30% loss, median 310 ms", uplink="telecom"),
        finding("uplink.loss", "unicom: 25% loss, median 280 ms", uplink="unicom"),
        finding("uplink.all_degraded", "Every uplink is degraded", uplinks=[]),
    ]
    fakes = FakeProbes([finding("dns.consistent", "agree")], lines)
    case = make_case("isp-case", ESCALATE_PLAYBOOK)
    playbook, problems = load_playbook(
        case, {n: s.params for n, s in fakes.specs.items()}, frozenset(ACTION_KINDS)
    )
    assert problems == []
    engine = DiagnosisEngine(
        SITE, {case.id: case}, {case.id: playbook}, store, fakes.specs
    )

    result = await engine.run(playbook, {}, always_done)

    (card,) = result.actions
    assert (
        "Measured by netcase:\n"
        + (
            "- telecom: 30% loss, median 310 ms\n"
            "- unicom: 25% loss, median 280 ms\n"
            "- Every uplink is degraded\n\n"
        )
        in card.snippets["ticket"]
    )
    assert "agree" not in card.snippets["ticket"]


SAVED_LOSS = [
    {"code": "uplink.loss", "severity": "warning", "data": {"uplink": "telecom"}},
    {"code": "uplink.best", "severity": "info", "data": {"uplink": "unicom"}},
]


@pytest.mark.parametrize(
    ("lossy_now", "verdict", "still"),
    [
        ("telecom", "not yet", ["uplink.loss"]),
        ("unicom", "cleared", []),
    ],
)
def test_verdict_counts_the_same_fault_on_the_same_uplink_only(
    lossy_now: str, verdict: str, still: list[str]
) -> None:
    after = [
        finding("uplink.loss", f"{lossy_now}: 20% loss", uplink=lossy_now),
        finding("uplink.best", "unicom: 0% loss", uplink="unicom"),
    ]

    record = verification_record(
        15, SAVED_LOSS, {"uplink.loss", "uplink.best"}, after, {"telecom", "unicom"}
    )

    assert record == {
        "session": 15,
        "findings": ["uplink.best", "uplink.loss"],
        "verdict": verdict,
        "still_seen": still,
        "unmeasured": [],
    }


OTHER_CASE_PLAYBOOK = """\
inputs:
  target: {prompt: CDN host, prompt_zh: CDN 域名, kind: name}
evidence:
  supports: {uplink.loss: 1}
actions:
  - id: move-user-off-lossy-wan
    kind: switch_line
    when: {all_of: [uplink.loss, uplink.best]}
    params: {to_uplink: "{uplink.best.uplink}", why: "loss towards {target}"}
    text: Move the user
    text_zh: 切换用户
"""


async def test_another_cases_action_lacking_its_inputs_is_left_out_without_a_warning(
    store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    fakes = FakeProbes([finding("dns.consistent", "agree")], LOSSY_LINES)
    case = make_case("line-case", PLAYBOOK)
    other = make_case("cdn-case", OTHER_CASE_PLAYBOOK)
    params = {n: s.params for n, s in fakes.specs.items()}
    books = {
        c.id: load_playbook(c, params, frozenset(ACTION_KINDS))[0]
        for c in (case, other)
    }
    engine = DiagnosisEngine(
        SITE, {case.id: case, other.id: other}, books, store, fakes.specs
    )

    result = await engine.run(
        books[case.id],
        resolve_inputs(books[case.id], {"user_ip": "10.0.3.27"}),
        always_done,
    )

    assert [card.id for card in result.actions] == ["move-user"]
    assert "cdn-case" in {cause.case_id for cause in result.causes}
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []


def test_paypal_playbook_times_tcp_and_tls_connects_beside_the_pings() -> None:
    path = REPO_KB / "paypal-telecom-uplink.md"
    case, _ = read_case(path, path.read_text(encoding="utf-8"))
    assert case is not None

    playbook, problems = load_playbook(case, probe_params(), frozenset(ACTION_KINDS))

    assert problems == []
    connect = playbook.step("connect")
    assert connect.probe == "latency" and connect.params["target"] == "{domain}"
    assert (connect.params["method"], connect.params["tls"]) == ("tcp", True)
    lines = playbook.steps.index(playbook.step("lines"))
    assert playbook.steps.index(connect) == lines + 1  # Same stage: in parallel.


# A probe that ran but could not measure anything.


class UnreachableLines(FakeProbes):
    """Probes whose line measurement reaches no uplink at all."""

    def spec(self, name: str, findings: list[Finding]) -> ProbeSpec:
        if name != "fake_lines":
            return super().spec(name, findings)

        async def run(params: dict[str, Any], site: Site, progress: Any) -> ProbeResult:
            uplinks = [{"name": "telecom", "error": "No route to 10.0.0.9."}]
            return ProbeResult(
                name, datetime.now(UTC), 0.0, params, {"uplinks": uplinks}
            )

        def compare(
            before: ProbeResult, after: ProbeResult, site: Site
        ) -> list[Finding]:
            return [finding("throughput.unchanged", "compared")]

        return ProbeSpec(name, frozenset({"name", "target"}), run, compare)


async def test_a_probe_that_measured_nothing_is_a_failed_step_with_the_reason(
    store: SessionStore,
) -> None:
    engine, playbook = build(UnreachableLines([], []), store)

    result = await engine.run(playbook, resolve_inputs(playbook, {}), always_done)

    lines = {o.step.id: o for o in result.steps if o.step.probe == "fake_lines"}
    assert [o.status for o in lines.values()] == ["failed", "failed"]
    assert lines["lines"].error == "No route to 10.0.0.9."
    assert lines["lines-again"].result is not None
    assert "throughput.unchanged" not in lines["lines-again"].result.codes()
    saved = {step.step_id: step for step in store.load(result.session_id)[1]}
    assert (saved["lines"].status, saved["lines"].error) == (
        "failed",
        "No route to 10.0.0.9.",
    )


@pytest.mark.parametrize(
    ("measurements", "findings", "reason"),
    [
        ({"runs": [{"error": "Refused."}, {"error": "Refused."}]}, [], "Refused."),
        ({"runs": [{"error": "Refused."}, {"error": ""}]}, [], ""),
        (
            {"lookups": [{"error": "Timed out."}]},
            [finding("dns.split_horizon", "-")],
            "",
        ),
        ({"runs": []}, [], ""),
        ({"rate_mbps": 3.0}, [], ""),
    ],
)
def test_nothing_measured_only_when_every_item_failed_and_nothing_was_found(
    measurements: dict[str, Any], findings: list[Finding], reason: str
) -> None:
    result = ProbeResult("p", datetime.now(UTC), 0.0, {}, measurements, findings)

    assert nothing_measured(result) == reason
