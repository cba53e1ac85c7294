"""Live Wi-Fi reads: run the platform's read-only commands and parse what they print.

Nothing here changes the machine's Wi-Fi: no scan is triggered (``nmcli
--rescan no``, ``iw scan dump`` and ``netsh show networks`` report the last
scan the system made), no connection is touched.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace

from netcase.errors import NetcaseError
from netcase.probes.limits import MAX_TIMEOUT_S, check_seconds
from netcase.probes.wifilink import VisibleAp, WifiLink, WifiReading
from netcase.probes.wifiparse import decode_capture
from netcase.probes.wifiparse_linux import (
    NMCLI_FIELDS,
    parse_iw,
    parse_iw_dev,
    parse_nmcli,
)
from netcase.probes.wifiparse_macos import parse_system_profiler, parse_wdutil
from netcase.probes.wifiparse_windows import parse_netsh, says_no_interface

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
"""Per command; ``system_profiler`` alone takes a few seconds."""

SAVE_HINT = (
    "or save the command's output on the user's machine and pass it with --from-file"
)


class WifiCannotRead(NetcaseError):
    """The Wi-Fi link cannot be read here: no tool, no interface, or the tool failed."""

    title = "Cannot read the Wi-Fi link"


@dataclass(frozen=True)
class WifiProgress:
    """Progress of a live read: one command started, finished or failed.

    Attributes:
        event: ``started``, ``finished`` or ``failed``.
        command: The command line.
        pid: The command's process id.
        elapsed_s: Seconds since the command started.
        detail: The exit status or the reason it failed.
    """

    event: str
    command: str
    pid: int | None = None
    elapsed_s: float = 0.0
    detail: str = ""


ProgressCallback = Callable[[WifiProgress], None]


@dataclass(frozen=True)
class _Output:
    command: str
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def complaint(self) -> str:
        """Return the first line the command printed about its failure."""
        lines = (self.stderr or self.stdout).strip().splitlines()
        return lines[0].strip() if lines else f"exit status {self.returncode}"


class _Runner:
    """Runs commands one at a time with a timeout, reporting each to a callback."""

    def __init__(
        self,
        timeout_s: float,
        on_progress: ProgressCallback | None,
        env: dict[str, str] | None,
    ) -> None:
        self.timeout_s = timeout_s
        self.on_progress = on_progress
        self.env = env
        self.commands: list[str] = []

    def _report(
        self,
        event: str,
        command: str,
        pid: int | None,
        started: float,
        detail: str = "",
    ) -> None:
        if self.on_progress is not None:
            elapsed_s = time.monotonic() - started
            self.on_progress(WifiProgress(event, command, pid, elapsed_s, detail))

    async def run(self, program: str, *args: str) -> _Output:
        """Run one command and return its decoded output, whatever its exit status.

        Raises:
            WifiCannotRead: When it cannot start or does not finish in time.
        """
        command = shlex.join([os.path.basename(program), *args])
        self.commands.append(command)
        started = time.monotonic()

        process = await self._start(command, started, program, *args)
        stdout, stderr = await self._wait(process, command, started)

        status = process.returncode or 0
        output = _Output(
            command, status, decode_capture(stdout), decode_capture(stderr)
        )
        self._report("finished", command, process.pid, started, f"exit status {status}")
        logger.debug(
            "%s exited %d:\n%s%s", command, status, output.stdout, output.stderr
        )
        return output

    async def _start(
        self, command: str, started: float, program: str, *args: str
    ) -> asyncio.subprocess.Process:
        try:
            process = await asyncio.create_subprocess_exec(
                program,
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self.env,
            )
        except OSError as exc:
            self._report("failed", command, None, started, str(exc))
            raise WifiCannotRead(f"Cannot run {command!r}: {exc.strerror}.") from exc
        self._report("started", command, process.pid, started)
        return process

    async def _wait(
        self, process: asyncio.subprocess.Process, command: str, started: float
    ) -> tuple[bytes, bytes]:
        """Collect the output; on timeout or cancellation kill the command first."""
        try:
            return await asyncio.wait_for(process.communicate(), self.timeout_s)
        except TimeoutError:
            self._report("failed", command, process.pid, started, "timeout")
            raise WifiCannotRead(
                f"{command!r} did not finish within {self.timeout_s:g} s; "
                "try again with a longer --timeout."
            ) from None
        finally:
            await _reap(process)


async def _reap(process: asyncio.subprocess.Process) -> None:
    """Kill the command if it still runs (timeout, cancellation) and wait for it."""
    if process.returncode is not None:
        return
    with suppress(ProcessLookupError):
        process.kill()
    await process.wait()


async def read_wifi(
    interface: str | None = None,
    *,
    platform: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    on_progress: ProgressCallback | None = None,
) -> WifiReading:
    """Read every Wi-Fi interface's link with this platform's tools.

    Args:
        interface: Read only this interface where the tool allows it.
        platform: A ``sys.platform`` value; defaults to this machine's.
        timeout_s: The longest any one command may take.
        on_progress: Called as each command starts and ends.

    Raises:
        WifiCannotRead: No tool, no Wi-Fi interface, or a tool failed.
        ConfigError: For a timeout that is not finite, above 0 and at most
            MAX_TIMEOUT_S.
    """
    check_seconds(timeout_s, "The timeout", MAX_TIMEOUT_S)
    platform = platform or sys.platform
    if platform.startswith("linux"):
        runner = _Runner(timeout_s, on_progress, {**os.environ, "LC_ALL": "C.UTF-8"})
        reading = await _read_linux(runner, interface)
    elif platform == "win32":
        reading = await _read_windows(_Runner(timeout_s, on_progress, None))
    elif platform == "darwin":
        reading = await _read_macos(_Runner(timeout_s, on_progress, None))
    else:
        raise WifiCannotRead(
            f"Reading Wi-Fi on {platform!r} is not supported; {SAVE_HINT}."
        )
    if not reading.links:
        raise WifiCannotRead(f"No Wi-Fi interface found ({reading.source} lists none).")
    return reading


def _tool(name: str) -> str | None:
    return shutil.which(name)


async def _read_linux(runner: _Runner, interface: str | None) -> WifiReading:
    nmcli, iw = _tool("nmcli"), _tool("iw")
    if iw is None:
        if nmcli is None:
            raise WifiCannotRead(
                "Neither nmcli (NetworkManager) nor iw is in PATH, so the Wi-Fi link "
                f"cannot be read here; install one of them, {SAVE_HINT}."
            )
        return await _read_nmcli(runner, nmcli)
    if nmcli is not None:
        try:
            reading = await _read_nmcli(runner, nmcli)
        except WifiCannotRead as exc:
            logger.info("nmcli cannot read the Wi-Fi link (%s); trying iw", exc.message)
        else:
            if reading.links:
                return await _refine_with_iw(runner, iw, reading)
    return await _read_iw(runner, iw, interface)


async def _read_nmcli(runner: _Runner, nmcli: str) -> WifiReading:
    devices = await runner.run(nmcli, "-t", "-f", "GENERAL,CAPABILITIES", "dev", "show")
    if not devices.ok:
        raise WifiCannotRead(f"{devices.command!r} failed: {devices.complaint()}")
    fields = ",".join(NMCLI_FIELDS)
    wifi = await runner.run(
        nmcli, "-t", "-f", fields, "dev", "wifi", "list", "--rescan", "no"
    )
    reading = parse_nmcli(f"{devices.stdout}\n\n{wifi.stdout if wifi.ok else ''}")
    notes = () if wifi.ok else (f"nmcli listed no APs: {wifi.complaint()}",)
    return replace(reading, commands=tuple(runner.commands), notes=notes)


async def _refine_with_iw(
    runner: _Runner, iw: str, reading: WifiReading
) -> WifiReading:
    """Take the measured dBm and bit rates from ``iw dev IF link`` for connected links."""
    links: list[WifiLink] = []
    for link in reading.links:
        if link.connected and link.interface:
            output = await runner.run(iw, "dev", link.interface, "link")
            measured = (
                parse_iw(output.stdout, link.interface).link() if output.ok else None
            )
            link = _merge(link, measured)
        links.append(link)
    return replace(reading, links=tuple(links), commands=tuple(runner.commands))


def _merge(link: WifiLink, measured: WifiLink | None) -> WifiLink:
    if measured is None or not measured.connected or measured.bssid != link.bssid:
        return link
    return replace(
        link,
        signal_dbm=measured.signal_dbm,
        signal_dbm_approx=False,
        rx_rate_mbps=measured.rx_rate_mbps,
        tx_rate_mbps=measured.tx_rate_mbps,
        radio_type=measured.radio_type or link.radio_type,
    )


async def _read_iw(runner: _Runner, iw: str, interface: str | None) -> WifiReading:
    names = (
        [interface] if interface else parse_iw_dev((await runner.run(iw, "dev")).stdout)
    )
    if not names:
        raise WifiCannotRead(
            "No Wi-Fi interface found (iw dev lists no station interface)."
        )
    links: list[WifiLink] = []
    scan: list[VisibleAp] = []
    for name in names:
        output = await runner.run(iw, "dev", name, "link")
        if not output.ok:
            raise WifiCannotRead(f"{output.command!r} failed: {output.complaint()}")
        links.extend(parse_iw(output.stdout, name).links)
        dump = await runner.run(iw, "dev", name, "scan", "dump")
        scan.extend(parse_iw(dump.stdout, name).scan if dump.ok else ())
    return WifiReading("iw", tuple(links), tuple(scan), commands=tuple(runner.commands))


async def _read_windows(runner: _Runner) -> WifiReading:
    netsh = _tool("netsh")
    if netsh is None:
        raise WifiCannotRead(f"netsh is not in PATH; {SAVE_HINT}.")
    output = await runner.run(netsh, "wlan", "show", "interfaces")
    if says_no_interface(output.stdout):
        raise WifiCannotRead(f"No Wi-Fi interface found (netsh: {output.complaint()}).")
    if not output.ok:
        raise WifiCannotRead(f"{output.command!r} failed: {output.complaint()}")
    reading = parse_netsh(output.stdout)
    networks = await runner.run(netsh, "wlan", "show", "networks", "mode=bssid")
    scan = parse_netsh(networks.stdout).scan if networks.ok else ()
    notes = (
        () if networks.ok else (f"netsh listed no networks: {networks.complaint()}",)
    )
    return replace(reading, scan=scan, commands=tuple(runner.commands), notes=notes)


async def _read_macos(runner: _Runner) -> WifiReading:
    wdutil, profiler = _tool("wdutil"), _tool("system_profiler")
    if wdutil is not None and os.geteuid() == 0:
        output = await runner.run(wdutil, "info")
        if output.ok:
            return replace(parse_wdutil(output.stdout), commands=tuple(runner.commands))
    if profiler is None:
        raise WifiCannotRead(
            f"Neither wdutil (as root) nor system_profiler can run; {SAVE_HINT}."
        )
    output = await runner.run(profiler, "SPAirPortDataType")
    if not output.ok:
        raise WifiCannotRead(f"{output.command!r} failed: {output.complaint()}")
    return replace(
        parse_system_profiler(output.stdout), commands=tuple(runner.commands)
    )
