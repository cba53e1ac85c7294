"""The command palette's choice of cases worth scoring."""

from __future__ import annotations

from netcase.kb.search import SearchHit
from netcase.tui.titles import TitleIndex


def hit(case_id: str, title: str, title_zh: str = "") -> SearchHit:
    return SearchHit(
        id=case_id, title=title, title_zh=title_zh, tags=(), score=0.0, snippet=""
    )


NEWEST_FIRST = [
    hit("vpn-drops", "VPN drops every hour", "VPN 每小时断开"),
    hit("printer-offline", "Printer shows offline", "打印机脱机"),
    hit("paypal-telecom-uplink", "PayPal suddenly won't open", "PayPal 突然打不开"),
    hit("pppoe-mtu", "Pages stall over PPPoE", "PPPoE 下网页卡住"),
]


def ids(cases: list[SearchHit]) -> list[str]:
    return [case.id for case in cases]


def test_cases_holding_the_typed_text_whole_come_before_scattered_letters() -> None:
    titles = TitleIndex(NEWEST_FIRST)

    # "pay" is whole in the PayPal title; "Pages stall over PPPoE" has no y.
    assert ids(titles.candidates("pay")) == ["paypal-telecom-uplink"]
    # "ppo" is whole in PPPoE only; p, p, o come in order, scattered, in
    # "VPN drops every hour" and "paypal-telecom-uplink", newest first.
    assert ids(titles.candidates("ppo")) == [
        "pppoe-mtu",
        "vpn-drops",
        "paypal-telecom-uplink",
    ]


def test_chinese_title_and_id_are_matched_too() -> None:
    titles = TitleIndex(NEWEST_FIRST)

    assert ids(titles.candidates("打印机")) == ["printer-offline"]
    assert ids(titles.candidates("pppoe-m")) == ["pppoe-mtu"]


def test_letters_out_of_order_or_across_names_match_nothing() -> None:
    titles = TitleIndex(NEWEST_FIRST)

    assert titles.candidates("nvp") == []
    # The end of the English title and the start of the Chinese one are two names.
    assert titles.candidates("hourvpn") == []


def test_typed_text_is_not_read_as_a_pattern() -> None:
    titles = TitleIndex([hit("a", "Error (403) from speedtest"), hit("b", "Other")])

    assert ids(titles.candidates("(403)")) == ["a"]
    assert titles.candidates(".*") == []


def test_candidates_are_capped_newest_first() -> None:
    cases = [hit(f"case-{n}", f"Slow Wi-Fi number {n}") for n in range(50)]
    titles = TitleIndex(cases)

    assert ids(titles.candidates("wi-fi", limit=5)) == [f"case-{n}" for n in range(5)]
    assert ids(titles.candidates("", limit=3)) == ["case-0", "case-1", "case-2"]
    assert ids(titles.newest(limit=2)) == ["case-0", "case-1"]
