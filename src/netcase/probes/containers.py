"""The localtime-mount probe: is /etc/localtime a mount point in a container?

Configuring tzdata replaces /etc/localtime by moving a new file onto it. When
the file is a bind mount of the host's (``-v /etc/localtime:/etc/localtime:ro``)
that move fails, read-only or not: a mount point is busy ("Device or resource
busy"), so tzdata and every package that needs it fail to install. The probe
reads ``docker inspect`` output (a file, pasted text, or the local engine) and
reports such mounts of /etc/localtime and /etc/timezone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import posixpath
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from netcase.errors import ConfigError, NetcaseError
from netcase.probes.findings import Finding, Severity
from netcase.probes.limits import MAX_TIMEOUT_S, check_seconds
from netcase.probes.result import ProbeResult

__all__ = [
    "ContainerTimeFiles",
    "DockerUnavailable",
    "TimeMount",
    "check_localtime_mounts",
    "docker_inspect",
    "parse_inspect",
    "read_inspect_file",
]

logger = logging.getLogger(__name__)

TIME_FILES = ("/etc/localtime", "/etc/timezone")
DEFAULT_TIMEOUT_S = 10.0
BUSY_NOTE = (
    "Even a read-write bind mount is a busy mount point: tzdata's mv onto it "
    "fails with 'Device or resource busy'."
)
_CONTAINER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_ENGINE_DOWN = (
    "cannot connect to the docker daemon",
    "is the docker daemon running",
    "error during connect",
    "permission denied while trying to connect",
)


class DockerUnavailable(NetcaseError):
    """The docker command is missing, or the engine does not answer."""

    title = "Docker unavailable"


@dataclass(frozen=True)
class TimeMount:
    """A mount whose destination is one of the time files.

    Attributes:
        destination: ``/etc/localtime`` or ``/etc/timezone``.
        kind: The mount type (``bind``, ``volume``, ``tmpfs``).
        source: The host path (or volume name) mounted there.
        read_only: True when mounted read-only.
        mode: Docker's mode text (``ro``, ``rw``, ``z``), or empty.
        origin: Where in the inspect output it was found.
    """

    destination: str
    kind: str
    source: str
    read_only: bool
    mode: str
    origin: str

    def to_json(self) -> dict[str, Any]:
        """Return the mount as plain JSON values."""
        return {
            "destination": self.destination,
            "type": self.kind,
            "source": self.source,
            "read_only": self.read_only,
            "mode": self.mode,
            "origin": self.origin,
        }


@dataclass(frozen=True)
class ContainerTimeFiles:
    """One container and the mounts over its time files."""

    name: str
    image: str | None
    mounts: tuple[TimeMount, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the container's summary as plain JSON values."""
        return {
            "container": self.name,
            "image": self.image,
            "mounts": [mount.to_json() for mount in self.mounts],
        }


ProgressCallback = Callable[[ContainerTimeFiles], None]


def read_inspect_file(path: str | Path) -> str:
    """Return the text of a saved ``docker inspect`` output.

    Raises:
        ConfigError: Naming the file when it cannot be read as text.
    """
    file = Path(path).expanduser()
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the docker inspect file {str(file)!r}: {exc.strerror}."
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"The docker inspect file {str(file)!r} is not UTF-8 text."
        ) from exc


def parse_inspect(
    text: str, origin: str = "the pasted text"
) -> list[ContainerTimeFiles]:
    """Read every container in ``docker inspect`` output (a list, or one object).

    Raises:
        ConfigError: Naming ``origin`` when the text is not JSON, holds no
            container, or holds something else (an image).
    """
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{origin}: not valid JSON at line {exc.lineno} column {exc.colno} "
            f"({exc.msg}). Give the output of 'docker inspect CONTAINER' unchanged."
        ) from exc
    entries = raw if isinstance(raw, list) else [raw]
    if not entries:
        raise ConfigError(
            f"{origin}: the docker inspect output lists no container (docker "
            "prints [] for a name it does not know)."
        )
    return [_container(entry, index, origin) for index, entry in enumerate(entries)]


def _container(entry: Any, index: int, origin: str) -> ContainerTimeFiles:
    if not isinstance(entry, dict) or not ("Mounts" in entry or "HostConfig" in entry):
        raise ConfigError(
            f"{origin}: entry {index} is not a container (no 'Mounts' or "
            "'HostConfig'); inspect the container, not its image."
        )
    name = str(entry.get("Name") or str(entry.get("Id", ""))[:12] or f"#{index}")
    config = entry.get("Config")
    image = config.get("Image") if isinstance(config, dict) else None
    return ContainerTimeFiles(name.lstrip("/"), image, _time_mounts(entry))


def _time_mounts(entry: dict[str, Any]) -> tuple[TimeMount, ...]:
    host_config = entry.get("HostConfig")
    host_config = host_config if isinstance(host_config, dict) else {}
    found = (
        [_from_mount(item) for item in _items(entry.get("Mounts"))]
        + [_from_bind(item) for item in _items(host_config.get("Binds"))]
        + [_from_host_mount(item) for item in _items(host_config.get("Mounts"))]
    )
    # The runtime list comes first, so it wins over the configuration's copy.
    by_destination: dict[str, TimeMount] = {}
    for mount in found:
        if mount is not None and mount.destination in TIME_FILES:
            by_destination.setdefault(mount.destination, mount)
    return tuple(by_destination.values())


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _path(value: Any) -> str:
    text = str(value or "")
    return posixpath.normpath(text) if text else ""


def _from_mount(item: Any) -> TimeMount | None:
    if not isinstance(item, dict):
        return None
    kind = str(item.get("Type") or "bind")
    source = item.get("Source") if kind == "bind" else item.get("Name")
    return TimeMount(
        destination=_path(item.get("Destination")),
        kind=kind,
        source=str(source or item.get("Source") or ""),
        read_only=item.get("RW") is False,
        mode=str(item.get("Mode") or ""),
        origin="Mounts",
    )


def _from_bind(item: Any) -> TimeMount | None:
    # HostConfig.Binds holds "source:destination[:options]"; a source that is
    # not an absolute path is a named volume.
    if not isinstance(item, str) or item.count(":") < 1:
        return None
    source, destination, *rest = item.split(":")
    options = rest[0].split(",") if rest else []
    return TimeMount(
        destination=_path(destination),
        kind="bind" if source.startswith("/") else "volume",
        source=source,
        read_only="ro" in options,
        mode=",".join(options),
        origin="HostConfig.Binds",
    )


def _from_host_mount(item: Any) -> TimeMount | None:
    if not isinstance(item, dict):
        return None
    return TimeMount(
        destination=_path(item.get("Target")),
        kind=str(item.get("Type") or "bind"),
        source=str(item.get("Source") or ""),
        read_only=item.get("ReadOnly") is True,
        mode="ro" if item.get("ReadOnly") is True else "",
        origin="HostConfig.Mounts",
    )


async def docker_inspect(container: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> str:
    """Return ``docker inspect --type container CONTAINER`` from the local engine.

    Raises:
        ConfigError: When the name is not a container name, the engine has
            no such container, or the timeout is not finite, above 0 and at
            most MAX_TIMEOUT_S.
        DockerUnavailable: When docker is not on PATH, the engine does not
            answer, or it takes longer than ``timeout_s``.
    """
    if not _CONTAINER_NAME.fullmatch(container):
        raise ConfigError(
            f"The container {container!r} is not a container name or ID "
            "(letters, digits, '_', '.', '-', starting with a letter or digit)."
        )
    check_seconds(timeout_s, "The timeout", MAX_TIMEOUT_S)
    docker = shutil.which("docker")
    if docker is None:
        raise DockerUnavailable(
            "The docker command is not on PATH. Save 'docker inspect "
            f"{container}' on the Docker host and give it with --inspect-file."
        )
    out, err, code = await _run(
        [docker, "inspect", "--type", "container", container], timeout_s
    )
    if code != 0:
        raise _inspect_failure(container, err.decode("utf-8", "replace").strip())
    return out.decode("utf-8", "replace")


async def _run(argv: list[str], timeout_s: float) -> tuple[bytes, bytes, int]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout_s):
            out, err = await process.communicate()
    except TimeoutError as exc:
        raise DockerUnavailable(
            f"'docker inspect' did not finish within {timeout_s:g} s: the engine "
            "is not answering. Give saved output with --inspect-file instead."
        ) from exc
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return out, err, process.returncode or 0


def _inspect_failure(container: str, stderr: str) -> NetcaseError:
    message = " ".join(stderr.split()) or "no message"
    logger.debug("docker inspect %s failed: %s", container, message)
    lowered = message.lower()
    if "no such object" in lowered or "no such container" in lowered:
        return ConfigError(f"Docker has no container named {container!r} ({message}).")
    if any(sign in lowered for sign in _ENGINE_DOWN):
        return DockerUnavailable(
            f"The docker engine did not answer: {message} Start it (or run as a "
            "user allowed to use it), or give saved output with --inspect-file."
        )
    return DockerUnavailable(f"'docker inspect {container}' failed: {message}")


async def check_localtime_mounts(
    *,
    inspect_text: str | None = None,
    origin: str = "the pasted text",
    container: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    on_progress: ProgressCallback | None = None,
) -> ProbeResult:
    """Report mounts over /etc/localtime and /etc/timezone in containers.

    Args:
        inspect_text: ``docker inspect`` output, read from a file or pasted.
        origin: Names the text in errors (a file path, "the pasted text").
        container: Instead of text, a container to inspect on the local engine.
        timeout_s: Bound on the local ``docker inspect``.
        on_progress: Called with each container as it is read.

    Raises:
        ConfigError: When neither or both inputs are given, or they are bad.
        DockerUnavailable: When the local engine cannot be asked.
    """
    if (inspect_text is None) == (container is None):
        raise ConfigError("Give either docker inspect output or a container name.")
    started, start_mono = datetime.now(UTC), time.monotonic()
    if container is not None:
        inspect_text = await docker_inspect(container, timeout_s)
        origin = f"docker inspect {container}"
    containers = parse_inspect(inspect_text or "", origin)
    for item in containers:
        if on_progress is not None:
            on_progress(item)

    findings = [finding for item in containers for finding in _findings(item)]
    duration_s = time.monotonic() - start_mono
    logger.info(
        "localtime_mount probe: source=%s containers=%d duration=%.3f s outcome=%s",
        origin,
        len(containers),
        duration_s,
        ",".join(sorted({finding.code for finding in findings})),
    )
    return ProbeResult(
        probe="localtime_mount",
        started=started,
        duration_s=duration_s,
        params={"container": container, "origin": origin},
        measurements={"containers": [item.to_json() for item in containers]},
        findings=findings,
    )


def _findings(item: ContainerTimeFiles) -> list[Finding]:
    if not item.mounts:
        return [
            Finding(
                "container.localtime_not_mounted",
                Severity.INFO,
                f"{item.name}: /etc/localtime is the container's own file, not a "
                "mount; tzdata can replace it.",
                {"container": item.name, "image": item.image},
            )
        ]
    return [_bind_finding(item, mount) for mount in item.mounts]


def _bind_finding(item: ContainerTimeFiles, mount: TimeMount) -> Finding:
    access = "read-only" if mount.read_only else "read-write"
    # Docker can only put a directory-shaped volume or tmpfs over a file in
    # odd cases; any mount there is a mount point all the same, so it counts.
    what = (
        "bind mount of the host's" if mount.kind == "bind" else f"{mount.kind} mount of"
    )
    return Finding(
        "container.localtime_bind_mount",
        Severity.WARNING,
        f"{item.name}: {mount.destination} is a {access} {what} {mount.source}; "
        "tzdata cannot replace it, so tzdata and the packages needing it fail to install.",
        {
            "container": item.name,
            "image": item.image,
            "path": mount.destination,
            "type": mount.kind,
            "source": mount.source,
            "read_only": mount.read_only,
            "mode": mount.mode,
            "note": BUSY_NOTE,
        },
    )
