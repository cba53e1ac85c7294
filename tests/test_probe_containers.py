"""The localtime-mount probe on saved docker inspect output, and docker missing."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from netcase.cli import main
from netcase.errors import ConfigError
from netcase.probes.containers import (
    ContainerTimeFiles,
    DockerUnavailable,
    check_localtime_mounts,
    docker_inspect,
    parse_inspect,
    read_inspect_file,
)
from netcase.probes.result import ProbeResult

SAMPLES = Path(__file__).parent / "samples" / "docker"


def sample(name: str) -> str:
    return read_inspect_file(SAMPLES / name)


async def probe_sample(name: str) -> ProbeResult:
    path = SAMPLES / name
    return await check_localtime_mounts(inspect_text=sample(name), origin=str(path))


def only(result: ProbeResult, code: str) -> dict[str, object]:
    (finding,) = result.findings
    assert finding.code == code
    return finding.data


async def test_seed_case_read_only_bind_mount_is_found() -> None:
    result = await probe_sample("localtime_ro.json")

    data = only(result, "container.localtime_bind_mount")
    assert data["container"] == "test01"
    assert data["image"] == "ubuntu:24.04"
    assert data["path"] == "/etc/localtime"
    assert data["source"] == "/etc/localtime"
    assert data["read_only"] is True
    assert "Device or resource busy" in str(data["note"])
    assert "read-only bind mount" in result.findings[0].summary


async def test_read_write_bind_mount_is_found_and_still_busy() -> None:
    result = await probe_sample("localtime_rw.json")

    data = only(result, "container.localtime_bind_mount")
    assert data["container"] == "test02"
    assert data["read_only"] is False
    assert "Even a read-write bind mount is a busy mount point" in str(data["note"])


async def test_container_without_the_mount_is_not_mounted() -> None:
    result = await probe_sample("no_mount.json")

    data = only(result, "container.localtime_not_mounted")
    assert data == {"container": "test01", "image": "ubuntu:24.04"}
    assert result.measurements["containers"][0]["mounts"] == []


async def test_volumes_and_other_binds_are_not_time_file_mounts() -> None:
    result = await probe_sample("volume_not_bind.json")

    assert only(result, "container.localtime_not_mounted")["container"] == "db01"


async def test_timezone_mounted_with_the_mount_flag_is_found() -> None:
    result = await probe_sample("timezone_mount_flag.json")

    data = only(result, "container.localtime_bind_mount")
    assert data["path"] == "/etc/timezone"
    assert data["read_only"] is True
    mounts = result.measurements["containers"][0]["mounts"]
    assert [m["origin"] for m in mounts] == ["Mounts"]


def test_binds_alone_are_read_when_mounts_are_missing() -> None:
    (entry,) = json.loads(sample("localtime_ro.json"))
    del entry["Mounts"]

    (container,) = parse_inspect(json.dumps(entry))

    (mount,) = container.mounts
    assert (mount.origin, mount.source, mount.read_only) == (
        "HostConfig.Binds",
        "/etc/localtime",
        True,
    )


async def test_several_containers_get_a_finding_each() -> None:
    entries = json.loads(sample("localtime_ro.json")) + json.loads(
        sample("no_mount.json")
    )
    entries[1]["Name"] = "/test03"
    seen: list[ContainerTimeFiles] = []

    result = await check_localtime_mounts(
        inspect_text=json.dumps(entries), on_progress=seen.append
    )

    assert [(f.code, f.data["container"]) for f in result.findings] == [
        ("container.localtime_bind_mount", "test01"),
        ("container.localtime_not_mounted", "test03"),
    ]
    assert [item.name for item in seen] == ["test01", "test03"]


def test_malformed_json_names_the_file() -> None:
    path = SAMPLES / "malformed.json"

    with pytest.raises(
        ConfigError, match=r"malformed\.json: not valid JSON at line \d+"
    ):
        parse_inspect(read_inspect_file(path), str(path))


def test_image_inspect_output_is_refused() -> None:
    with pytest.raises(ConfigError, match="entry 0 is not a container"):
        parse_inspect(sample("image.json"), "image.json")


def test_empty_inspect_output_is_refused() -> None:
    with pytest.raises(ConfigError, match="lists no container"):
        parse_inspect("[]\n", "pasted")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot read the docker inspect file"):
        read_inspect_file(tmp_path / "nope.json")


async def test_neither_or_both_inputs_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError, match="either docker inspect output or a container"
    ):
        await check_localtime_mounts()
    with pytest.raises(
        ConfigError, match="either docker inspect output or a container"
    ):
        await check_localtime_mounts(inspect_text="[]", container="test01")


# The local docker engine


@pytest.fixture
def no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the docker command at a socket that does not exist, here only."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    if shutil.which("docker") is None:
        pytest.skip("the docker command is not installed here")


def fake_docker(folder: Path, script: str) -> Path:
    folder.mkdir()
    docker = folder / "docker"
    docker.write_text(f"#!/bin/sh\n{script}\n")
    docker.chmod(docker.stat().st_mode | stat.S_IXUSR)
    return folder


async def test_engine_unavailable_is_a_clear_error(no_engine: None) -> None:
    with pytest.raises(
        DockerUnavailable, match="docker engine did not answer"
    ) as caught:
        await docker_inspect("test01", timeout_s=10.0)

    assert "Cannot connect to the Docker daemon" in caught.value.message
    assert "--inspect-file" in caught.value.message


async def test_docker_not_on_path_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(DockerUnavailable, match="not on PATH"):
        await docker_inspect("test01")


async def test_unknown_container_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = 'echo "[]"; echo "Error: No such container: test09" >&2; exit 1'
    monkeypatch.setenv("PATH", str(fake_docker(tmp_path / "bin", script)))

    with pytest.raises(ConfigError, match="no container named 'test09'"):
        await docker_inspect("test09")


async def test_hanging_docker_is_stopped_at_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = f"exec {shutil.which('sleep')} 30"
    monkeypatch.setenv("PATH", str(fake_docker(tmp_path / "bin", script)))

    with pytest.raises(DockerUnavailable, match="did not finish within 0.2 s"):
        await docker_inspect("test01", timeout_s=0.2)


async def test_container_name_that_looks_like_an_option_is_refused() -> None:
    with pytest.raises(ConfigError, match="not a container name"):
        await docker_inspect("--help")


async def test_inspect_from_a_working_engine_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = SAMPLES / "localtime_ro.json"
    bin_dir = fake_docker(tmp_path / "bin", f'{shutil.which("cat")} "{saved}"')
    monkeypatch.setenv("PATH", str(bin_dir))

    result = await check_localtime_mounts(container="test01")

    assert only(result, "container.localtime_bind_mount")["container"] == "test01"
    assert result.params == {"container": "test01", "origin": "docker inspect test01"}


# The command line


def test_cli_json_for_the_seed_case(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(SAMPLES / "localtime_ro.json")

    code = main(["probe", "localtime_mount", "--inspect-file", path, "--json"])

    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["probe"] == "localtime_mount"
    assert [f["code"] for f in out["findings"]] == ["container.localtime_bind_mount"]
    assert out["findings"][0]["data"]["read_only"] is True


def test_cli_table(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(SAMPLES / "localtime_rw.json")

    assert main(["probe", "localtime_mount", "--inspect-file", path]) == 0

    out = capsys.readouterr().out
    assert out.splitlines()[1].split() == [
        "test02",
        "/etc/localtime",
        "bind",
        "/etc/localtime",
        "read-write",
    ]
    assert "[warning] container.localtime_bind_mount" in out


def test_cli_malformed_file_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = str(SAMPLES / "malformed.json")

    assert main(["probe", "localtime_mount", "--inspect-file", path]) == 2
    assert f"{path}: not valid JSON" in capsys.readouterr().err


def test_cli_engine_unavailable_exits_3(
    capsys: pytest.CaptureFixture[str], no_engine: None
) -> None:
    assert main(["probe", "localtime_mount", "--container", "test01"]) == 3
    assert "docker engine did not answer" in capsys.readouterr().err


def test_cli_needs_a_file_or_a_container() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["probe", "localtime_mount"])
    assert exited.value.code == 2
