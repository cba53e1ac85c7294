"""`netcase probe dns`, as a person or a script runs it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dnsserver import DnsLab, dns_lab
from netcase.cli import main
from netcase.probes import dnscompare
from netcase.probes.dnscompare import ResolversUnavailable

PUBLIC = {"www.example.com": {"A": ["203.0.113.10"], "AAAA": ["2001:db8:10::10"]}}
INSIDE = {"www.example.com": {"A": ["10.20.0.9"]}}


@pytest.fixture
def lab() -> Iterator[DnsLab]:
    with dns_lab() as running:
        yield running
        assert running.errors == []


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["probe", "dns", *argv, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert isinstance(printed, dict)
    return printed


def test_json_has_the_probe_shape_and_the_findings(
    capsys: pytest.CaptureFixture[str], lab: DnsLab
) -> None:
    inside, outside = lab.add(zone=INSIDE), lab.add(zone=PUBLIC)

    printed = run_json(
        capsys,
        "www.example.com",
        "--internal",
        inside.address,
        "--external",
        outside.address,
        "--type",
        "a",
    )

    assert set(printed) == {
        "probe",
        "started",
        "duration_s",
        "params",
        "measurements",
        "findings",
    }
    assert printed["probe"] == "dns"
    assert printed["started"].endswith("+00:00")
    assert printed["params"]["types"] == ["A"]
    assert printed["params"]["internal"] == [inside.address]
    assert set(printed["measurements"]) == {"lookups", "canaries"}
    assert set(printed["measurements"]["lookups"][0]) == {
        "name",
        "type",
        "resolver",
        "role",
        "status",
        "rcode",
        "answers",
        "cname_chain",
        "rtt_ms",
        "error",
        "tcp",
    }
    [finding] = printed["findings"]
    assert set(finding) == {"code", "severity", "summary", "data"}
    assert finding["code"] == "dns.split_horizon"


def test_table_lists_each_resolver_and_then_the_findings(
    capsys: pytest.CaptureFixture[str], lab: DnsLab
) -> None:
    inside, outside = lab.add(zone=PUBLIC), lab.add(zone=PUBLIC)

    code = main(
        [
            "probe",
            "dns",
            "www.example.com",
            "--internal",
            inside.address,
            "--external",
            outside.address,
        ]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].split() == [
        "NAME",
        "TYPE",
        "RESOLVER",
        "VIEW",
        "OUTCOME",
        "RTT",
        "MS",
        "ANSWER",
    ]
    assert f"{inside.address}  internal  answer" in out
    assert "203.0.113.10 (300 s)" in out
    assert "dns.consistent: 2 resolvers agree on www.example.com A" in out


def test_silent_resolver_still_exits_zero_with_a_timeout_finding(
    capsys: pytest.CaptureFixture[str], lab: DnsLab
) -> None:
    silent, outside = lab.add(mode="silent"), lab.add(zone=PUBLIC)

    printed = run_json(
        capsys,
        "www.example.com",
        "--internal",
        silent.address,
        "--external",
        outside.address,
        "--timeout",
        "0.3",
    )

    codes = [f["code"] for f in printed["findings"]]
    assert "dns.timeout" in codes


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["www.example.com", "--internal", "999.1.1.1"], "'999.1.1.1'"),
        (["www.example.com", "--external", "127.0.0.1:70000"], "'127.0.0.1:70000'"),
        (["www.example.com", "--internal", "127.0.0.1", "--timeout", "0"], "0.0"),
        (["www..example.com", "--internal", "127.0.0.1"], "'www..example.com'"),
        (["--internal", "127.0.0.1"], "No name to look up"),
    ],
)
def test_bad_arguments_exit_2_naming_the_value(
    capsys: pytest.CaptureFixture[str], argv: list[str], complaint: str
) -> None:
    assert main(["probe", "dns", *argv]) == 2
    assert complaint in capsys.readouterr().err


def test_unknown_record_type_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["probe", "dns", "www.example.com", "--type", "MX"])
    assert exited.value.code == 2


def write_site(path: Path, internal: str, external: str, names: list[str]) -> Path:
    path.write_text(
        f'[resolvers]\ninternal = ["{internal}"]\nexternal = ["{external}"]\n'
        f"[targets]\ndns_names = {json.dumps(names)}\n",
        encoding="utf-8",
    )
    return path


def test_site_profile_gives_resolvers_and_names_and_flags_override_them(
    capsys: pytest.CaptureFixture[str], lab: DnsLab, tmp_path: Path
) -> None:
    inside, outside, other = (
        lab.add(zone=INSIDE),
        lab.add(zone=PUBLIC),
        lab.add(zone=PUBLIC),
    )
    site = write_site(
        tmp_path / "site.toml", inside.address, outside.address, ["www.example.com"]
    )

    from_site = run_json(capsys, "--site", str(site))
    overridden = run_json(capsys, "--site", str(site), "--external", other.address)

    assert from_site["params"]["names"] == ["www.example.com"]
    assert from_site["params"]["external"] == [outside.address]
    assert overridden["params"]["internal"] == [inside.address]
    assert overridden["params"]["external"] == [other.address]


def test_system_resolvers_unknown_exits_3_with_the_reason(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_resolvers() -> tuple[()]:
        raise ResolversUnavailable("The system names no plain DNS resolver.")

    monkeypatch.setattr(dnscompare, "system_resolvers", no_resolvers)

    assert main(["probe", "dns", "www.example.com"]) == 3
    assert "names no plain DNS resolver" in capsys.readouterr().err


def test_an_ip_address_among_the_names_is_stated_and_the_others_are_asked(
    capsys: pytest.CaptureFixture[str], lab: DnsLab
) -> None:
    inside = lab.add(zone=INSIDE)

    code = main(
        ["probe", "dns", "127.0.0.1", "www.example.com", "--internal", inside.address]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert "www.example.com  A     " in out
    assert (
        "'127.0.0.1' not looked up: it is written as an IP address, not a DNS name."
        in out
    )
    assert "[warning] dns.bad_name: '127.0.0.1' was not looked up" in out
