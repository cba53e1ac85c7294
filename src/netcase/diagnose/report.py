"""A saved session as a ticket-ready Markdown report, or as a new case file."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from netcase.config import SHIPPED_KB
from netcase.errors import ConfigError, NetcaseError

if TYPE_CHECKING:
    # Only for annotations: the TUI's case screen imports this module, and the
    # tables would bring SQLAlchemy into the start-up path.
    from netcase.store import SessionRow, StepRow

CJK = re.compile(r"[\u3400-\u9fff]")


def session_json(row: SessionRow, steps: list[StepRow]) -> dict[str, Any]:
    """Return a session with its steps as plain JSON values."""
    return {
        "session": row.id,
        "started": row.started.isoformat(),
        "finished": row.finished.isoformat() if row.finished else None,
        "status": row.status,
        "site": row.site,
        "case": row.case_id,
        "symptom": row.symptom,
        "inputs": row.inputs,
        "steps": [
            {
                "id": s.step_id,
                "kind": s.kind,
                "status": s.status,
                "duration_s": round(s.duration_s, 4),
                "result": s.result,
                "error": s.error,
            }
            for s in steps
        ],
        "findings": row.findings,
        "causes": row.causes,
        "ruled_out": row.ruled_out,
        "actions": row.actions,
        "notes": row.notes,
        "verifies": row.verifies,
    }


def top_cause(row: SessionRow) -> str | None:
    """Return the best-ranked case the findings did not rule out, if any."""
    kept = (cause["case"] for cause in row.causes if not cause.get("ruled_out"))
    return next(kept, None)


def markdown_report(
    row: SessionRow, steps: list[StepRow], router: str = "generic"
) -> str:
    """Return the session as Markdown an engineer can paste into a ticket."""
    heading = f"Diagnosis {row.id}"
    if row.verifies is not None:
        heading = f"Verification {row.id} of diagnosis {row.verifies}"
    lines = [
        f"# {heading}: {row.case_id or 'standard probes'}",
        "",
        f"- **When:** {row.started:%Y-%m-%d %H:%M} UTC ({row.status})",
        f"- **Site:** {row.site}",
        f"- **Symptom:** {row.symptom or '-'}",
        f"- **Inputs:** {_given_inputs(row.inputs)}",
        "",
        "## Steps",
        "",
        "| step | kind | status | seconds | findings |",
        "| --- | --- | --- | --- | --- |",
    ]
    for step in steps:
        codes = ", ".join(f["code"] for f in (step.result or {}).get("findings", []))
        detail = codes or step.error or "-"
        lines.append(
            f"| {step.step_id} | {step.kind} | {step.status} | {step.duration_s:.2f} | {detail} |"
        )
    lines += ["", "## Findings", ""]
    lines += [
        f"- **{f['code']}** ({f['severity']}): {f['summary']}" for f in row.findings
    ] or ["- none"]
    lines += ["", "## Likely causes", ""]
    lines += [_cause_line(rank, cause) for rank, cause in enumerate(row.causes, 1)] or [
        "- none ranked"
    ]
    if row.ruled_out:
        lines += ["", "## Ruled out", ""] + [
            f"- {statement}" for statement in row.ruled_out
        ]
    lines += ["", "## Actions", ""]
    for card in row.actions:
        lines += _action_lines(card, router)
    if not row.actions:
        lines.append("- none proposed")
    if row.notes:
        lines += ["", "## Notes", "", quoted(row.notes)]
    return "\n".join(lines) + "\n"


def _cause_line(rank: int, cause: dict[str, Any]) -> str:
    mark = " (ruled out)" if cause.get("ruled_out") else ""
    line = f"{rank}. **{cause['case']}**{mark}, score {cause['score']}: {cause.get('title', '')}"
    details = [f"   - for: {item}" for item in cause.get("for", [])]
    details += [f"   - against: {item}" for item in cause.get("against", [])]
    return "\n".join([line, *details])


def _action_lines(card: dict[str, Any], router: str) -> list[str]:
    snippets = card.get("snippets", {})
    flavour = router if router in snippets else next(iter(snippets), "")
    lines = [
        f"### {card['summary']} ({card['kind']}, {card.get('status', 'proposed')})",
        "",
        f"- **Why:** {card.get('reason') or '-'}",
        f"- **Scope:** {card.get('scope', '-')}",
        f"- **Risk:** {card.get('risk', '-')}",
        f"- **Roll back:** {card.get('rollback', '-')}",
        f"- **Verify:** re-run {', '.join(card.get('verify', [])) or 'the diagnosis'}",
    ]
    if card.get("verification"):
        lines.append(f"- **Verification:** {verification_text(card['verification'])}")
    if flavour:
        lines += [
            "",
            f"```{'shell' if flavour != 'generic' else 'text'}",
            snippets[flavour],
            "```",
        ]
    notice = card.get("notice", {})
    if notice:
        lines += ["", f"> {notice.get('en', '')}", ">", f"> {notice.get('zh', '')}"]
    return [*lines, ""]


def _given_inputs(inputs: dict[str, Any]) -> str:
    """Return the inputs that have a value as ``key=value``; "-" when none has."""
    given = [f"{key}={value}" for key, value in inputs.items() if value is not None]
    return ", ".join(given) or "-"


def quoted(text: str) -> str:
    """Return free text as a Markdown blockquote, so no line becomes a heading."""
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines())


def verification_text(verification: dict[str, Any]) -> str:
    """Return a recorded verification with its verdict.

    For example ``session 14: not yet: uplink.loss still seen (found:
    uplink.best, uplink.loss)``; one recorded before verdicts existed reads
    ``session 14: uplink.best, uplink.loss``; one that did not measure a
    trigger's subject reads ``session 14: cannot tell: telecom was not
    measured (found: wifi.weak_signal)``.
    """
    codes = ", ".join(verification.get("findings", [])) or "no findings"
    session = f"session {verification.get('session', '?')}"
    verdict = verification.get("verdict")
    if verdict is None:
        return f"{session}: {codes}"
    still = ", ".join(verification.get("still_seen", []))
    unmeasured = ", ".join(verification.get("unmeasured", []))
    target = verification.get("target")
    if still:
        said = f"not yet: {still} still seen" + (f" on {target}" if target else "")
    elif unmeasured:
        said = f"cannot tell: {unmeasured} was not measured"
    else:
        said = str(verdict)
    return f"{session}: {said} (found: {codes})"


class _PlainDumper(yaml.SafeDumper):
    """Writes a repeated value out again instead of as an anchor and alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def draft_case(row: SessionRow, kb_dir: Path, today: date | None = None) -> Path:
    """Write a new case file from a session and return its path.

    The draft passes ``netcase kb check``: placeholders are marked for the
    engineer to replace, and the session's findings become its evidence.

    Raises:
        NetcaseError: When a case of the same id already exists.
        ConfigError: When ``kb_dir`` is the copy of the cases shipped inside
            the package, which a reinstall would replace.
    """
    if kb_dir.resolve() == SHIPPED_KB.resolve():
        raise ConfigError(
            f"The cases come from the copy inside the installed package "
            f"({kb_dir}), which a reinstall replaces; give the team's case "
            "folder with --kb DIR or NETCASE_KB.",
            title="No case folder to write to",
        )
    today = today or date.today()
    case_id = f"incident-{today:%Y%m%d}-session-{row.id}"
    path = kb_dir / f"{case_id}.md"
    if path.exists():
        raise NetcaseError(
            f"The case file {str(path)!r} already exists; edit it instead.",
            title="Draft exists",
        )
    path.write_text(_draft_text(case_id, row, today), encoding="utf-8")
    return path


def _draft_text(case_id: str, row: SessionRow, today: date) -> str:
    symptom = row.symptom.strip() or f"Diagnosis {row.id} at {row.site}"
    english = (
        symptom if not CJK.search(symptom) else "(describe the symptom in English)"
    )
    chinese = symptom if CJK.search(symptom) else "（请补充中文症状描述）"
    codes = list(dict.fromkeys(f["code"] for f in row.findings))
    front = {
        "id": case_id,
        "title": f"DRAFT: {english}",
        "title_zh": f"草稿：{chinese}",
        "tags": sorted({"draft", *(code.split(".")[0] for code in codes)}),
        "symptoms": [english, chinese],
        "environment": f"Site {row.site}; drafted from netcase session {row.id}",
        "created": today,
        "updated": today,
        "evidence": {"supports": {code: 1 for code in codes}} if codes else {},
    }
    findings = (
        "\n".join(f"- `{f['code']}`: {f['summary']}" for f in row.findings) or "- none"
    )
    applied = [c for c in row.actions if c.get("status") == "applied"]
    resolution = (
        "\n".join(f"- {c['summary']}" for c in applied) or "(what fixed it; 处理方法)"
    )
    body = (
        f"## Symptom / 现象\n\n{symptom}\n\n"
        f"## Analysis / 分析\n\nMeasured in session {row.id}:\n\n{findings}\n\n"
        "## Root cause / 根因\n\n(to be confirmed; 待确认)\n\n"
        f"## Resolution / 处理\n\n{resolution}\n"
    )
    if not front["evidence"]:
        del front["evidence"]
    return (
        "---\n"
        + yaml.dump(front, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False)
        + "---\n\n"
        + body
    )
