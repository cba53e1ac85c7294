"""Action kinds: what an engineer is told to do, rendered for their site.

netcase never runs these: it shows the commands and the user notice, and the
engineer copies them, applies them by hand and marks the card.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netcase.errors import NetcaseError
from netcase.site import PLAIN_NAME_WORDS, Site, is_plain_name

LINE_WORD = re.compile(r"\bline|线路", re.IGNORECASE)
UNQUOTABLE = re.compile(r'["%$`\x00-\x1f\x7f]')
"""Characters that end or expand a double-quoted value in cmd or PowerShell."""
SSID_MAX_BYTES = 32
"""An SSID is at most 32 octets (IEEE 802.11-2020, 9.4.2.2)."""


class ActionParamError(NetcaseError):
    """A value that cannot go into a command snippet."""

    title = "Bad action value"


@dataclass
class ActionCard:
    """One proposed action, ready to show, copy and mark."""

    id: str
    kind: str
    case_id: str
    summary: str
    summary_zh: str
    reason: str
    params: dict[str, Any]
    snippets: dict[str, str] = field(default_factory=dict)
    notice: dict[str, str] = field(default_factory=dict)
    scope: str = ""
    risk: str = ""
    rollback: str = ""
    verify: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Inputs to fill in before the snippets can be used as they are."""
    status: str = "proposed"

    def to_json(self) -> dict[str, Any]:
        """Return the card in the CLI's JSON shape."""
        return {
            "id": self.id,
            "kind": self.kind,
            "case": self.case_id,
            "summary": self.summary,
            "summary_zh": self.summary_zh,
            "reason": self.reason,
            "params": self.params,
            "snippets": self.snippets,
            "notice": self.notice,
            "scope": self.scope,
            "risk": self.risk,
            "rollback": self.rollback,
            "verify": self.verify,
            "missing": self.missing,
            "status": self.status,
        }


def ip_value(params: dict[str, Any], key: str) -> str:
    """Return a parameter that must be one IP address, checked."""
    value = str(params.get(key, "")).strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise ActionParamError(
            f"The {key} {value!r} is not an IP address; give one such as 10.0.3.27."
        ) from exc


def name_value(params: dict[str, Any], key: str) -> str:
    """Return a parameter that must be a plain name (see ``is_plain_name``)."""
    value = str(params.get(key, "")).strip()
    if not is_plain_name(value):
        raise ActionParamError(f"The {key} {value!r} is not {PLAIN_NAME_WORDS}.")
    return value


@dataclass(frozen=True)
class Rendered:
    """What an action kind produces from its parameters."""

    snippets: dict[str, str]
    notice: dict[str, str]
    scope: str
    risk: str
    rollback: str
    missing: list[str] = field(default_factory=list)


Renderer = Callable[[dict[str, Any], Site], Rendered]


def _switch_line(params: dict[str, Any], site: Site) -> Rendered:
    given = params.get("user_ip") is not None
    user_ip = ip_value(params, "user_ip") if given else "<user_ip>"
    target = name_value(params, "to_uplink")
    uplink = next((u for u in site.uplinks if u.name == target), None)
    label = uplink.label if uplink else target
    line = label if LINE_WORD.search(label) else f"{label} line"
    interface = (
        uplink.interface if uplink and uplink.interface else f"<{target} interface>"
    )
    table = f"wan_{target}"
    mark = f"netcase-{user_ip}"
    rule = "netcase_" + re.sub(r"[^0-9A-Za-z]", "_", user_ip)
    snippets = {
        "linux": (
            f"# Send {user_ip} out of {label} ({interface}); table {table} routes via that line.\n"
            f"ip rule del from {user_ip}/32 priority 900 2>/dev/null\n"
            f"ip rule add from {user_ip}/32 lookup {table} priority 900\n"
            "ip route flush cache"
        ),
        "openwrt": (
            f"uci set mwan3.{rule}=rule\n"
            f"uci set mwan3.{rule}.src_ip='{user_ip}'\n"
            f"uci set mwan3.{rule}.use_policy='{target}_only'\n"
            f"uci reorder mwan3.{rule}=0\n"
            "uci commit mwan3 && mwan3 restart"
        ),
        "routeros": (
            f'/routing rule add src-address={user_ip}/32 action=lookup-only-in-table table=to-{target} comment="{mark}"'
        ),
        "generic": (
            f"On the router, add a source-based rule: traffic from {user_ip} uses the {line} "
            f"({target}) for all destinations. Leave destination routes as they are."
        ),
    }
    rollback = {
        "linux": f"ip rule del from {user_ip}/32 lookup {table} priority 900",
        "openwrt": f"uci delete mwan3.{rule} && uci commit mwan3 && mwan3 restart",
        "routeros": f'/routing rule remove [find comment="{mark}"]',
        "generic": f"Remove the source rule for {user_ip}.",
    }
    reason_en = params.get(
        "why", "the current line is losing packets to the sites you use"
    )
    reason_zh = params.get("why_zh", "原线路访问您使用的网站时丢包严重")
    notice = {
        "en": (
            f"Hello, we have moved your internet exit to the {line} because {reason_en}. "
            "Nothing changes on your computer. If any site behaves differently, tell the helpdesk."
        ),
        "zh": (
            f"您好，因为{reason_zh}，我们已将您的上网出口线路切换到 {label}。"
            "您的电脑无需任何设置；如有网站访问异常，请联系网络支持。"
        ),
    }
    return Rendered(
        snippets,
        notice,
        scope=f"Only traffic from {user_ip}; other users and the destination routes stay as they are.",
        risk="Low: the user's public address changes, so sites that pin a session to an IP may ask them to log in again.",
        rollback=rollback.get(site.router, rollback["generic"]),
        missing=[] if given else ["user_ip"],
    )


def quotable_ssid(params: dict[str, Any]) -> str | None:
    """Return the ``ssid`` parameter when it can sit between double quotes, else None."""
    ssid = str(params.get("ssid") or "")
    if not ssid or len(ssid.encode()) > SSID_MAX_BYTES or UNQUOTABLE.search(ssid):
        return None
    return ssid


def _reconnect_wifi(params: dict[str, Any], site: Site) -> Rendered:
    transfer = str(params.get("transfer") or "the transfer")
    ssid = quotable_ssid(params)
    return Rendered(
        snippets={
            "windows": f'netsh wlan disconnect\nnetsh wlan connect name="{ssid or "<SSID>"}"',
            "macos": "networksetup -setairportpower en0 off && networksetup -setairportpower en0 on",
            "linux": "nmcli radio wifi off && nmcli radio wifi on",
        },
        notice={
            "en": (
                f"Please turn Wi-Fi off and on again where you are now, wait until it is connected, "
                f"then cancel {transfer} and start it again. A transfer that slowed down while you were "
                "moving does not speed up again by itself."
            ),
            "zh": (
                "请在您现在所在的位置断开并重新连接 Wi-Fi，连上后删除正在进行的传输任务并重新开始传输。"
                "移动过程中变慢的传输不会随信号变好而自动恢复速度。"
            ),
        },
        scope="This user's device only.",
        risk="None beyond a few seconds without Wi-Fi; the interrupted transfer restarts.",
        rollback="Nothing to roll back.",
        missing=[] if ssid else ["ssid"],
    )


def _sync_clock(params: dict[str, Any], site: Site) -> Rendered:
    offset = params.get("offset_s")
    stated = (
        f" (off by {float(offset):+.0f} s)" if isinstance(offset, int | float) else ""
    )
    return Rendered(
        snippets={
            "chrony": "chronyc makestep   # step the host clock now\nchronyc tracking",
            "systemd": "timedatectl set-ntp true\ntimedatectl status",
        },
        notice={
            "en": f"The host clock was wrong{stated}; containers take their time from it. It has been corrected.",
            "zh": f"宿主机时间不对{stated}，容器的时间来自宿主机，现已校准。",
        },
        scope="The host and every container on it (they share its clock).",
        risk="A large step moves timestamps of running programs; schedule it outside busy hours.",
        rollback="Nothing to roll back; keep chrony running so the clock stays right.",
    )


def _copy_localtime(params: dict[str, Any], site: Site) -> Rendered:
    container = name_value(params, "container")
    image = str(params.get("image") or "ubuntu:24.04")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_./:@-]*$", image):
        raise ActionParamError(f"The image {image!r} is not a plain image reference.")
    return Rendered(
        snippets={
            "docker": (
                f"# Recreate the container without -v /etc/localtime:/etc/localtime, then copy the file in;\n"
                f"# -L copies what the symlink points to (a plain cp copies a dangling link).\n"
                f"docker run -it --name {container} {image}\n"
                f"docker cp -L /etc/localtime {container}:/etc/localtime"
            ),
            "no_timezone_change": "# Or leave the container on UTC: the time is right, only shown in another zone.",
        },
        notice={
            "en": "Install packages again once the container is recreated; tzdata can now replace /etc/localtime.",
            "zh": "容器重建后再安装软件包；tzdata 现在可以覆盖 /etc/localtime 了。",
        },
        scope=f"The container {container} only.",
        risk="Recreating the container drops changes made inside it; commit or copy them out first.",
        rollback="Nothing to roll back.",
    )


def measured_lines(value: Any) -> str:
    """Return measured findings (a list, or text of lines) as a bulleted block."""
    lines = value if isinstance(value, list) else str(value or "").splitlines()
    bullets = [f"- {str(line).strip()}" for line in lines if str(line).strip()]
    return "\n".join(bullets) or "- (nothing measured was recorded)"


def _escalate(params: dict[str, Any], site: Site) -> Rendered:
    uplink = str(params.get("uplink") or "all lines")
    evidence = measured_lines(params.get("evidence"))
    return Rendered(
        snippets={
            "ticket": (
                f"Subject: Packet loss and delay towards {params.get('target', 'the destination')} on {uplink}\n\n"
                f"Site: {site.name}\nMeasured by netcase:\n{evidence}\n\n"
                "Please check the path from our line to this destination and tell us the ticket number."
            )
        },
        notice={
            "en": "The problem is on the provider's side; we have reported it and will tell you when it is fixed.",
            "zh": "问题出在运营商一侧，我们已向运营商报障，修复后会通知您。",
        },
        scope="Every user of the affected lines.",
        risk="None: a ticket changes nothing on the network.",
        rollback="Nothing to roll back.",
    )


ACTION_KINDS: dict[str, Renderer] = {
    "switch_line": _switch_line,
    "reconnect_wifi_then_retry": _reconnect_wifi,
    "sync_host_clock": _sync_clock,
    "copy_localtime_not_mount": _copy_localtime,
    "escalate_to_isp": _escalate,
}
"""Every action kind a case may name, and how it is rendered."""
TAKES_EVIDENCE = frozenset({"escalate_to_isp"})
"""Action kinds whose text carries the measured findings (a ticket): the engine
fills their ``evidence`` parameter unless the case gives one."""


def render_action(kind: str, params: dict[str, Any], site: Site) -> Rendered:
    """Render an action kind for a site.

    Raises:
        ActionParamError: When a parameter cannot safely go into a snippet.
    """
    return ACTION_KINDS[kind](params, site)
