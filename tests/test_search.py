"""Bilingual search over the repository's real cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbfiles import copy_repo_kb, write_case
from netcase.config import resolve_paths
from netcase.kb.search import parse_query, snippet
from netcase.kb.service import KnowledgeBase


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    root = tmp_path_factory.mktemp("search")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NETCASE_HOME", str(root / "home"))
        knowledge = KnowledgeBase(resolve_paths(copy_repo_kb(root / "kb")))
        knowledge.open()
    return knowledge


def first(kb: KnowledgeBase, query: str) -> str:
    hits = kb.search(query)
    assert hits, f"nothing found for {query!r}"
    return hits[0].id


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("FTP 速度慢", "wifi-roaming-ftp-slowdown"),
        ("paypal 打不开", "paypal-telecom-uplink"),
        ("Release file is not valid yet", "docker-apt-clock-skew"),
        ("tzdata localtime", "docker-tzdata-localtime-mount"),
    ],
)
def test_issue_queries_rank_the_seed_case_first(
    kb: KnowledgeBase, query: str, expected: str
) -> None:
    assert first(kb, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("开会 传文件 很慢", "wifi-roaming-ftp-slowdown"),
        ("电信 线路 登录不上", "paypal-telecom-uplink"),
        ("容器 时区 安装失败", "docker-tzdata-localtime-mount"),
    ],
)
def test_chinese_only_queries(kb: KnowledgeBase, query: str, expected: str) -> None:
    assert first(kb, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("wifi roaming slow transfer", "wifi-roaming-ftp-slowdown"),
        ("telecom line paypal login", "paypal-telecom-uplink"),
        ("mss clamping pppoe", "pppoe-mtu-mss-blackhole"),
        ("DHCP pool exhausted random MAC", "dhcp-pool-exhaustion-random-mac"),
    ],
)
def test_english_queries(kb: KnowledgeBase, query: str, expected: str) -> None:
    assert first(kb, query) == expected


def test_mixed_language_query(kb: KnowledgeBase) -> None:
    assert first(kb, "docker 容器 apt update 报错 时间不对") == "docker-apt-clock-skew"


@pytest.mark.parametrize(
    ("query", "expected"),
    [("paypall", "paypal-telecom-uplink"), ("rouming", "wifi-roaming-ftp-slowdown")],
)
def test_english_typos_are_tolerated(
    kb: KnowledgeBase, query: str, expected: str
) -> None:
    assert first(kb, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("www.paypalobjects.com", "paypal-telecom-uplink"),
        ("paypalobjects.com", "paypal-telecom-uplink"),
        ("paypalobjects", "paypal-telecom-uplink"),
        ("chronyc makestep", "docker-apt-clock-skew"),
        ("docker cp -L", "docker-tzdata-localtime-mount"),
        ("/etc/localtime", "docker-tzdata-localtime-mount"),
        ("HTTP Error 403: Forbidden", "speedtest-cli-http-403"),
    ],
)
def test_identifiers_are_found_whole_and_in_parts(
    kb: KnowledgeBase, query: str, expected: str
) -> None:
    assert first(kb, query) == expected


def test_ip_address_is_found_whole(kb: KnowledgeBase) -> None:
    address = "169.254"
    hits = kb.search(address)

    assert hits[0].id == "dhcp-pool-exhaustion-random-mac"


def test_tag_filter_keeps_only_tagged_cases(kb: KnowledgeBase) -> None:
    hits = kb.search("slow tag:wifi")

    assert hits
    assert all("wifi" in hit.tags for hit in hits)
    assert hits[0].id == "wifi-roaming-ftp-slowdown"


def test_tag_alone_lists_the_tagged_cases(kb: KnowledgeBase) -> None:
    hits = kb.search("tag:docker")

    assert {hit.id for hit in hits} == {
        "docker-apt-clock-skew",
        "docker-tzdata-localtime-mount",
    }


def test_empty_query_lists_every_case_newest_first(kb: KnowledgeBase) -> None:
    hits = kb.search("", limit=100)

    assert len(hits) == len(list(kb.paths.kb_dir.glob("*.md")))
    dates = [hit.updated for hit in hits]
    assert dates == sorted(dates, reverse=True)


def test_snippet_marks_the_matched_words(kb: KnowledgeBase) -> None:
    hit = kb.search("FTP 速度慢")[0]

    assert "**FTP**" in hit.snippet
    assert "**速度" in hit.snippet


def test_snippet_marks_a_chinese_word_once_when_jieba_yields_overlapping_parts(
    kb: KnowledgeBase,
) -> None:
    hit = kb.search("速度慢 打不开")[0]

    assert "****" not in hit.snippet
    assert hit.snippet.count("**") % 2 == 0


def test_snippet_does_not_mark_words_that_only_share_a_prefix(
    kb: KnowledgeBase,
) -> None:
    hit = kb.search("www.paypalobjects.com")[0]

    assert "**com**mon" not in hit.snippet
    assert "**www.paypalobjects.com**" in hit.snippet


@pytest.mark.parametrize(
    "query", ["!!! ??? ...", "，。！？", "*", "tag:", "\"'", "a" * 2000]
)
def test_odd_queries_return_cleanly(kb: KnowledgeBase, query: str) -> None:
    hits = kb.search(query)

    assert isinstance(hits, list)


def test_two_thousand_character_mixed_query_is_capped_and_still_ranks(
    kb: KnowledgeBase,
) -> None:
    query = ("paypal 打不开 " * 200)[:2000]

    assert len(parse_query(query).terms) <= 48
    assert first(kb, query) == "paypal-telecom-uplink"


def test_snippet_without_matches_is_the_start_of_the_text() -> None:
    assert snippet("one two three", None, width=7) == "one two…"


def test_seed_cases_keep_the_facts_of_the_original_notes(kb: KnowledgeBase) -> None:
    facts = {
        "wifi-roaming-ftp-slowdown": ["50", "100KB/s", "2MB/s", "会议室", "台阶"],
        "paypal-telecom-uplink": [
            "www.paypalobjects.com",
            "60",
            "联通",
            "电信",
            "切用户",
        ],
        "docker-apt-clock-skew": ["chronyc makestep", "date -s", "not valid yet"],
        "docker-tzdata-localtime-mount": [
            "docker cp -L",
            "/etc/localtime:/etc/localtime:ro",
            "vim tzdata tcpdump telnet traceroute tree iotop unzip zip nfs-common lrzsz",
        ],
    }
    for case_id, words in facts.items():
        text = kb.get(case_id).markdown.replace(" ", "")
        missing = [word for word in words if word.replace(" ", "") not in text]
        assert missing == [], f"{case_id} lacks {missing}"


def test_case_file_in_repository_kb_dir_is_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    copy_repo_kb(tmp_path / "kb")
    monkeypatch.chdir(tmp_path)

    assert resolve_paths().kb_dir == (tmp_path / "kb").resolve()


def test_without_kb_folder_nearby_the_shipped_cases_are_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)

    kb_dir = resolve_paths().kb_dir

    assert (kb_dir / "paypal-telecom-uplink.md").is_file()


def test_ip_address_prefix_and_range_find_the_case_holding_them(
    kb: KnowledgeBase,
) -> None:
    range_hits = kb.search("10.20.0.0/16")
    prefix_hits = kb.search("10.20")

    assert range_hits[0].id == "split-horizon-dns-cache-offsite"
    assert "split-horizon-dns-cache-offsite" in {hit.id for hit in prefix_hits}


def test_word_in_every_body_but_no_title_still_finds_cases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(80):
        write_case(
            folder,
            f"case-{number:03d}",
            title=f"Incident {number}",
            body="The gateway answered slowly.",
        )
    monkeypatch.setenv("NETCASE_HOME", str(tmp_path / "home-many"))
    knowledge = KnowledgeBase(resolve_paths(folder))
    knowledge.open()

    assert len(knowledge.search("gateway", limit=20)) == 20


def test_section_headings_are_not_shown_in_snippets(kb: KnowledgeBase) -> None:
    hits = kb.search("FTP 速度慢")

    assert "Symptom / 现象" not in hits[0].snippet
    assert (
        kb.search("analysis resolution") == []
        or kb.search("analysis resolution")[0].score > 0
    )
