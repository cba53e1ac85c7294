"""The DNS comparison probe against loopback responders with chosen views."""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import dns.resolver
import pytest

from dnsserver import HIJACK_V4, DnsLab, Responder, dns_lab
from netcase.errors import ConfigError
from netcase.probes.dnscompare import (
    LookupFinished,
    ResolversUnavailable,
    compare_dns,
    describe,
    expand_system,
    system_resolvers,
)
from netcase.probes.registry import PROBES
from netcase.probes.result import ProbeResult
from netcase.site import ResolverAddress, Site

PUBLIC = {
    "www.example.com": {"A": ["203.0.113.10"], "AAAA": ["2001:db8:10::10"]},
    "alias.example.com": {"CNAME": "edge.example.net"},
    "edge.example.net": {"CNAME": "www.example.com"},
}
INSIDE = {
    "www.example.com": {"A": ["10.20.0.9"]},
    "intranet.example.com": {"A": ["10.20.0.10"]},
}


@pytest.fixture
def lab() -> Iterator[DnsLab]:
    with dns_lab() as running:
        yield running
        assert running.errors == []


@pytest.fixture
def dnsmasq() -> Iterator[ResolverAddress]:
    """A real resolver: dnsmasq on 127.0.0.99, answering only its own names."""
    if shutil.which("dnsmasq") is None:
        pytest.skip("needs dnsmasq (Debian package dnsmasq-base)")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe_port:
        probe_port.bind(("127.0.0.99", 0))
        port = probe_port.getsockname()[1]
    command = [
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
        "--no-hosts", "--listen-address=127.0.0.99", "--bind-interfaces",
        f"--port={port}", "--address=/www.example.com/10.20.0.9", "--log-facility=-",
    ]  # fmt: skip
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    first_line = server.stderr.readline()
    try:
        assert "started" in first_line, first_line
        yield ResolverAddress("127.0.0.99", port)
    finally:
        server.terminate()
        server.communicate(timeout=10)


def at(*responders: Responder) -> list[ResolverAddress]:
    return [ResolverAddress(r.host, r.port) for r in responders]


def lookups(result: ProbeResult, name: str, rdtype: str = "A") -> list[dict[str, Any]]:
    return [
        lookup
        for lookup in result.measurements["lookups"]
        if lookup["name"] == name and lookup["type"] == rdtype
    ]


def findings(result: ProbeResult, code: str) -> list[dict[str, Any]]:
    return [f.to_json() for f in result.findings if f.code == code]


async def test_real_dnsmasq_inside_and_public_outside_is_a_split_horizon(
    lab: DnsLab, dnsmasq: ResolverAddress
) -> None:
    outside = lab.add(zone=PUBLIC)

    result = await compare_dns(
        ["www.example.com"], [dnsmasq], at(outside), rdtypes=["A"]
    )

    [split] = findings(result, "dns.split_horizon")
    assert split["data"]["private_addresses"] == ["10.20.0.9"]
    assert lookups(result, "www.example.com")[0]["answers"][0]["ttl_s"] >= 0


async def test_identical_views_are_consistent_for_each_type(lab: DnsLab) -> None:
    inside, outside = lab.add(zone=PUBLIC), lab.add(zone=PUBLIC)

    result = await compare_dns(["www.example.com"], at(inside), at(outside))

    consistent = findings(result, "dns.consistent")
    assert [(f["data"]["type"], f["data"]["addresses"]) for f in consistent] == [
        ("A", ["203.0.113.10"]),
        ("AAAA", ["2001:db8:10::10"]),
    ]
    assert result.codes() == {"dns.consistent"}
    first = lookups(result, "www.example.com")[0]
    assert first["rcode"] == "NOERROR"
    assert first["answers"] == [{"address": "203.0.113.10", "ttl_s": 300}]
    assert first["rtt_ms"] > 0 and first["error"] is None


async def test_answers_in_the_same_network_count_as_consistent(lab: DnsLab) -> None:
    one = lab.add(zone={"www.example.com": {"A": ["203.0.113.10"]}})
    other = lab.add(zone={"www.example.com": {"A": ["203.0.113.77"]}})

    result = await compare_dns(["www.example.com"], at(one), at(other), rdtypes=["A"])

    [consistent] = findings(result, "dns.consistent")
    assert consistent["data"]["networks"] == ["203.0.113.0/24"]
    assert "dns.mismatch" not in result.codes()


async def test_private_internal_answer_is_a_split_horizon(lab: DnsLab) -> None:
    inside = lab.add(zone=INSIDE)
    outside = [lab.add(zone=PUBLIC), lab.add(zone=PUBLIC)]

    result = await compare_dns(
        ["www.example.com"], at(inside), at(*outside), rdtypes=["A"]
    )

    [split] = findings(result, "dns.split_horizon")
    assert split["data"]["private_addresses"] == ["10.20.0.9"]
    assert split["data"]["internal"][0]["resolver"] == inside.address
    assert {v["resolver"] for v in split["data"]["external"]} == {
        r.address for r in outside
    }
    assert "dns.mismatch" not in result.codes()
    assert "dns.consistent" not in result.codes()


async def test_name_known_only_inside_is_split_horizon_and_nxdomain_outside(
    lab: DnsLab,
) -> None:
    inside, outside = lab.add(zone=INSIDE), lab.add(zone=PUBLIC)

    result = await compare_dns(
        ["intranet.example.com"], at(inside), at(outside), rdtypes=["A"]
    )

    [split] = findings(result, "dns.split_horizon")
    assert split["data"]["internal_only"] is True
    [nxdomain] = findings(result, "dns.nxdomain")
    assert nxdomain["severity"] == "warning"
    assert nxdomain["data"]["resolvers"] == [outside.address]
    assert nxdomain["data"]["answering"] == [inside.address]


async def test_different_public_answers_are_a_mismatch_naming_each_side(
    lab: DnsLab,
) -> None:
    cdn_a = {"cdn.example.com": {"A": ["203.0.113.20"]}}
    cdn_b = {"cdn.example.com": {"A": ["198.51.100.20"]}}
    inside, first, second = (
        lab.add(zone=cdn_a),
        lab.add(zone=cdn_a),
        lab.add(zone=cdn_b),
    )

    result = await compare_dns(
        ["cdn.example.com"], at(inside), at(first, second), rdtypes=["A"]
    )

    [mismatch] = findings(result, "dns.mismatch")
    groups = {
        tuple(g["addresses"]): [r["resolver"] for r in g["resolvers"]]
        for g in mismatch["data"]["groups"]
    }
    assert groups == {
        ("203.0.113.20",): [inside.address, first.address],
        ("198.51.100.20",): [second.address],
    }
    assert second.address in mismatch["summary"]
    assert "dns.split_horizon" not in result.codes()


async def test_internal_public_answer_unlike_outside_is_split_and_mismatch(
    lab: DnsLab,
) -> None:
    inside = lab.add(zone={"www.example.com": {"A": ["198.51.100.5"]}})
    outside = lab.add(zone=PUBLIC)

    result = await compare_dns(
        ["www.example.com"], at(inside), at(outside), rdtypes=["A"]
    )

    [split] = findings(result, "dns.split_horizon")
    assert split["data"]["internal_public_addresses"] == ["198.51.100.5"]
    assert split["data"]["private_addresses"] == []
    assert "dns.mismatch" in result.codes()


async def test_nxdomain_everywhere_is_an_agreed_answer_not_a_failure(
    lab: DnsLab,
) -> None:
    inside, outside = lab.add(zone=PUBLIC), lab.add(mode="nxdomain")

    result = await compare_dns(["gone.example.com"], at(inside), at(outside))

    assert result.codes() == {"dns.nxdomain", "dns.consistent"}
    [nxdomain] = findings(result, "dns.nxdomain")
    assert nxdomain["severity"] == "info"
    assert nxdomain["data"]["resolvers"] == [inside.address, outside.address]
    assert all(
        lookup["status"] == "nxdomain" and lookup["rcode"] == "NXDOMAIN"
        for lookup in result.measurements["lookups"]
    )


async def test_servfail_names_the_failing_resolver(lab: DnsLab) -> None:
    inside, outside = lab.add(mode="servfail"), lab.add(zone=PUBLIC)

    result = await compare_dns(
        ["www.example.com"], at(inside), at(outside), rdtypes=["A"]
    )

    [servfail] = findings(result, "dns.servfail")
    assert servfail["data"] == {
        "name": "www.example.com",
        "resolvers": [inside.address],
    }
    answered = lookups(result, "www.example.com")[1]
    assert answered["answers"][0]["address"] == "203.0.113.10"


async def test_refused_is_a_dns_error_finding(lab: DnsLab) -> None:
    refusing, outside = lab.add(mode="refused"), lab.add(zone=PUBLIC)

    result = await compare_dns(
        ["www.example.com"], at(refusing), at(outside), rdtypes=["A"]
    )

    [error] = findings(result, "dns.error")
    assert error["data"]["resolver"] == refusing.address
    assert error["data"]["failures"][0]["rcode"] == "REFUSED"


async def test_silent_resolver_times_out_and_the_others_still_answer(
    lab: DnsLab,
) -> None:
    silent = lab.add(mode="silent")
    outside = [lab.add(zone=PUBLIC), lab.add(zone=PUBLIC)]

    result = await compare_dns(
        ["www.example.com", "alias.example.com"],
        at(silent),
        at(*outside),
        timeout_s=0.3,
    )

    [timeout] = findings(result, "dns.timeout")
    assert timeout["data"]["resolver"] == silent.address
    assert len(timeout["data"]["lookups"]) == 4
    for lookup in result.measurements["lookups"]:
        if lookup["resolver"] == silent.address:
            assert (lookup["status"], lookup["rtt_ms"]) == ("timeout", None)
        else:
            assert lookup["status"] == "answer" and lookup["answers"]
    assert len(findings(result, "dns.consistent")) == 4


async def test_resolver_slower_than_the_timeout_is_cut_off(lab: DnsLab) -> None:
    slow, quick = lab.add(zone=PUBLIC, delay_s=30), lab.add(zone=PUBLIC)

    result = await compare_dns(
        ["www.example.com"], at(slow), at(quick), rdtypes=["A"], timeout_s=0.3
    )

    statuses = [lookup["status"] for lookup in result.measurements["lookups"]]
    assert statuses == ["timeout", "answer"]


async def test_resolver_rewriting_unknown_names_is_suspected(lab: DnsLab) -> None:
    honest, hijacker = lab.add(zone=PUBLIC), lab.add(zone=PUBLIC, mode="hijack")

    result = await compare_dns(["www.example.com"], at(honest), at(hijacker))

    [hijack] = findings(result, "dns.hijack_suspected")
    canary = result.params["canary"]
    assert canary.startswith("nc-") and canary.endswith(".example.com")
    assert hijack["severity"] == "warning"
    assert hijack["data"]["resolver"] == hijacker.address
    assert hijack["data"]["addresses"] == [HIJACK_V4]
    assert hijack["data"]["nxdomain_from"] == [honest.address]
    assert (canary, "A", "udp") in hijacker.queries
    assert len(result.measurements["canaries"]) == 2


async def test_every_resolver_answering_the_random_name_may_be_a_wildcard(
    lab: DnsLab,
) -> None:
    first, second = lab.add(mode="hijack"), lab.add(mode="hijack")

    result = await compare_dns(["www.example.com"], at(first), at(second))

    suspected = findings(result, "dns.hijack_suspected")
    assert len(suspected) == 2
    assert all(f["severity"] == "info" for f in suspected)
    assert all(f["data"]["wildcard_possible"] for f in suspected)


async def test_cname_chain_in_one_answer_is_reported(lab: DnsLab) -> None:
    resolver = lab.add(zone=PUBLIC)

    result = await compare_dns(["alias.example.com"], at(resolver), rdtypes=["A"])

    [lookup] = result.measurements["lookups"]
    assert [(hop["name"], hop["target"]) for hop in lookup["cname_chain"]] == [
        ("alias.example.com", "edge.example.net"),
        ("edge.example.net", "www.example.com"),
    ]
    assert lookup["answers"][0]["address"] == "203.0.113.10"


async def test_cname_chain_is_followed_when_the_answer_stops_at_an_alias(
    lab: DnsLab,
) -> None:
    resolver = lab.add(zone=PUBLIC, chase_cnames=False)

    result = await compare_dns(["alias.example.com"], at(resolver), rdtypes=["A"])

    [lookup] = result.measurements["lookups"]
    assert [hop["target"] for hop in lookup["cname_chain"]] == [
        "edge.example.net",
        "www.example.com",
    ]
    assert lookup["answers"][0]["address"] == "203.0.113.10"
    asked = [name for name, _, _ in resolver.queries if not name.startswith("nc-")]
    assert asked == ["alias.example.com", "edge.example.net", "www.example.com"]


async def test_cname_loop_is_an_error_not_a_hang(lab: DnsLab) -> None:
    looping = {
        "a.example.com": {"CNAME": "b.example.com"},
        "b.example.com": {"CNAME": "a.example.com"},
    }
    resolver = lab.add(zone=looping, chase_cnames=False)

    result = await compare_dns(["a.example.com"], at(resolver), rdtypes=["A"])

    [lookup] = result.measurements["lookups"]
    assert lookup["status"] == "error"
    assert "CNAME chain" in lookup["error"]


async def test_truncated_udp_answer_is_asked_again_over_tcp(lab: DnsLab) -> None:
    resolver = lab.add(zone=PUBLIC, truncate_udp=True)

    result = await compare_dns(["www.example.com"], at(resolver), rdtypes=["A"])

    [lookup] = result.measurements["lookups"]
    assert lookup["tcp"] is True
    assert lookup["answers"][0]["address"] == "203.0.113.10"
    assert ("www.example.com", "A", "tcp") in resolver.queries


async def test_progress_reports_every_lookup_once(lab: DnsLab) -> None:
    inside, outside = lab.add(zone=INSIDE), lab.add(zone=PUBLIC)
    events: list[LookupFinished] = []

    result = await compare_dns(
        ["www.example.com"], at(inside), at(outside), on_progress=events.append
    )

    assert [e.done for e in events] == list(range(1, 7))
    assert {e.total for e in events} == {6}
    assert sum(e.canary for e in events) == 2
    assert len(result.measurements["lookups"]) == 4


async def test_each_outcome_reads_as_its_own_sentence(lab: DnsLab) -> None:
    views = [lab.add(zone=INSIDE), lab.add(mode="servfail"), lab.add(mode="silent")]
    sentences: dict[tuple[str, str], str] = {}

    await compare_dns(
        ["www.example.com", "gone.example.com"],
        at(*views),
        timeout_s=0.3,
        on_progress=lambda e: sentences.setdefault(
            (e.lookup.status, e.lookup.rdtype), describe(e.lookup)
        ),
    )

    first = views[0].address
    assert (
        sentences[("answer", "A")]
        == f"{first} answers www.example.com A with 10.20.0.9."
    )
    assert sentences[("nodata", "AAAA")] == (
        f"{first}: www.example.com exists but has no AAAA record (NoAnswer)."
    )
    assert (
        sentences[("nxdomain", "A")]
        == f"{first}: gone.example.com does not exist (NXDOMAIN)."
    )
    assert "(Timeout): no answer within 0.3 s" in sentences[("timeout", "A")]
    assert sentences[("servfail", "A")] == (
        f"{views[1].address} answered SERVFAIL for www.example.com A: it could not "
        "get an answer (an upstream server failed, or DNSSEC validation did)."
    )


async def test_one_resolver_is_named_in_the_singular(lab: DnsLab) -> None:
    failing, outside = lab.add(mode="servfail"), lab.add(zone=PUBLIC)

    result = await compare_dns(
        ["www.example.com", "gone.example.com"], at(failing), at(outside), rdtypes=["A"]
    )

    [servfail, _] = findings(result, "dns.servfail")
    assert servfail["summary"] == (
        f"{failing.address} (internal) answers SERVFAIL for www.example.com: it "
        "could not get an answer (an upstream server failed, or DNSSEC validation "
        "did)."
    )
    [nxdomain] = findings(result, "dns.nxdomain")
    assert nxdomain["summary"] == (
        f"{outside.address} (external) says gone.example.com does not exist (NXDOMAIN)."
    )


async def test_several_resolvers_are_named_in_the_plural(lab: DnsLab) -> None:
    saying = [lab.add(zone=PUBLIC), lab.add(zone=PUBLIC)]
    inside = lab.add(zone=INSIDE)

    result = await compare_dns(
        ["intranet.example.com"], at(inside), at(*saying), rdtypes=["A"]
    )

    [nxdomain] = findings(result, "dns.nxdomain")
    who = ", ".join(f"{r.address} (external)" for r in saying)
    assert nxdomain["summary"] == (
        f"{who} say intranet.example.com does not exist (NXDOMAIN); "
        f"{inside.address} (internal) answers 10.20.0.10."
    )


async def test_a_refusing_resolver_reads_as_one_sentence(lab: DnsLab) -> None:
    refusing = lab.add(mode="refused")

    result = await compare_dns(["www.example.com"], at(refusing), rdtypes=["A"])

    [error] = findings(result, "dns.error")
    assert error["summary"] == (
        f"{refusing.address} (internal) gave no usable answer to 1 lookup: its "
        "policy refuses the query (it may not serve this client or name)."
    )


async def test_a_mismatch_summary_ends_in_one_sentence_per_thought(
    lab: DnsLab,
) -> None:
    first = lab.add(zone={"cdn.example.com": {"A": ["203.0.113.20"]}})
    second = lab.add(zone={"cdn.example.com": {"A": ["198.51.100.20"]}})

    result = await compare_dns(
        ["cdn.example.com"], at(first), at(second), rdtypes=["A"]
    )

    [mismatch] = findings(result, "dns.mismatch")
    assert mismatch["summary"] == (
        "Public answers for cdn.example.com A differ: 203.0.113.20 from "
        f"{first.address} (internal); 198.51.100.20 from {second.address} "
        "(external). A CDN may explain it."
    )


def open_descriptors() -> int:
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


async def test_cancelling_stops_every_query_and_closes_its_sockets(
    lab: DnsLab,
) -> None:
    silent, quick = lab.add(mode="silent"), lab.add(zone=PUBLIC)
    answered = asyncio.Event()
    before = open_descriptors()

    probe = asyncio.create_task(
        compare_dns(
            ["www.example.com"],
            at(silent),
            at(quick),
            timeout_s=60,
            on_progress=lambda event: answered.set(),
        )
    )
    await answered.wait()
    probe.cancel()

    with pytest.raises(asyncio.CancelledError):
        await probe
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert open_descriptors() == before


def test_system_placeholder_is_replaced_by_the_os_list_without_duplicates() -> None:
    named = ResolverAddress("127.0.0.53")
    os_list = (ResolverAddress("127.0.0.53"), ResolverAddress("::1", 5353))

    expanded = expand_system([named, ResolverAddress("system")], read=lambda: os_list)

    assert expanded == (named, ResolverAddress("::1", 5353))


@pytest.mark.parametrize(
    ("names", "options", "expected"),
    [
        ([], {}, "No name"),
        (["bad..name"], {}, "'bad..name' has an empty label"),
        (["www.example.com"], {"rdtypes": ["MX"]}, "'MX'"),
        (["www.example.com"], {"timeout_s": 0}, "timeout 0"),
    ],
)
async def test_bad_inputs_are_refused_before_any_query(
    names: list[str], options: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        await compare_dns(names, [ResolverAddress("127.0.0.1", 9)], **options)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("a..b", "has an empty label (two dots in a row, or a dot at the start)"),
        (".a.example", "has an empty label (two dots in a row, or a dot at the start)"),
        (
            "x" * 64 + ".example",
            "has a label (the text between two dots) longer than 63 characters",
        ),
        ("  ", "is empty"),
    ],
)
async def test_a_bad_name_is_refused_in_one_plain_sentence(
    name: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        await compare_dns([name], [ResolverAddress("127.0.0.1", 9)])

    assert refused.value.message == (
        f"{name!r} {problem}; give a name such as www.example.com."
    )


@pytest.mark.parametrize("name", ["999.1.1.1", "10.0.0.1", "1.2.3.4.", "::1"])
async def test_a_name_written_as_an_ip_address_is_refused_before_any_query(
    name: str,
) -> None:
    with pytest.raises(ConfigError, match="is written as an IP address"):
        await compare_dns([name], [ResolverAddress("127.0.0.1", 9)])


# A bad name among good ones: stated on its own, the others still asked.


async def test_an_ip_address_among_names_is_stated_and_the_others_are_asked(
    lab: DnsLab,
) -> None:
    inside, outside = lab.add(zone=PUBLIC), lab.add(zone=PUBLIC)

    result = await compare_dns(
        ["127.0.0.1", "www.example.com"], at(inside), at(outside), rdtypes=["A"]
    )

    assert {lookup["name"] for lookup in result.measurements["lookups"]} == {
        "www.example.com"
    }
    assert result.params["names"] == ["www.example.com"]
    assert result.codes() == {"dns.bad_name", "dns.consistent"}
    [bad] = findings(result, "dns.bad_name")
    assert bad["severity"] == "warning"
    assert bad["summary"] == (
        "'127.0.0.1' was not looked up: it is written as an IP address, not a DNS "
        "name; the other name was."
    )
    assert bad["data"] == {
        "name": "127.0.0.1",
        "problem": "is written as an IP address, not a DNS name",
    }
    assert result.params["bad_names"] == [bad["data"]]


async def test_a_playbook_step_with_an_ip_address_among_names_asks_the_others(
    lab: DnsLab,
) -> None:
    inside, outside = lab.add(zone=INSIDE), lab.add(zone=PUBLIC)
    params = {
        "names": ["www.example.com", "127.0.0.1", "a..b"],
        "internal": [inside.address],
        "external": [outside.address],
        "types": ["A"],
    }

    result = await PROBES["dns"].run(params, Site(), None)

    assert lookups(result, "www.example.com")
    assert [f["data"]["name"] for f in findings(result, "dns.bad_name")] == [
        "127.0.0.1",
        "a..b",
    ]
    assert "dns.split_horizon" in result.codes()


async def test_only_bad_names_is_a_config_error_naming_each() -> None:
    with pytest.raises(ConfigError) as refused:
        await compare_dns(["127.0.0.1", "a..b"], [ResolverAddress("127.0.0.1", 9)])

    assert refused.value.message == (
        "'127.0.0.1' is written as an IP address, not a DNS name; 'a..b' has an "
        "empty label (two dots in a row, or a dot at the start); give names such "
        "as www.example.com."
    )


def test_unreadable_system_resolvers_read_as_plain_sentences(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreadable(configure: bool = True) -> None:
        raise dns.resolver.NoResolverConfiguration()

    monkeypatch.setattr("dns.resolver.Resolver", unreadable)

    with pytest.raises(ResolversUnavailable) as missing:
        system_resolvers()

    assert missing.value.message == (
        "Cannot read the system resolvers: Resolver configuration could not be "
        "read or specified no nameservers. Name them with --internal ADDR."
    )
