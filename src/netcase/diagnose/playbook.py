"""A case's playbook: inputs, steps, evidence and actions, read and checked.

The playbook lives in the case file's front matter (``inputs``, ``diagnose``,
``evidence``, ``actions``). Nothing in it is evaluated: conditions are lists
of finding codes and parameters are ``{name}`` look-ups.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from netcase.diagnose.templates import placeholders
from netcase.diagnose.values import check_input, param_problems
from netcase.errors import ConfigError
from netcase.kb.case import Case, Problem
from netcase.probes.findings import FINDING_CODES

INPUT_KINDS = ("text", "ip", "name", "url", "int")
STEP_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SITE_VALUES = frozenset({"site.name", "site.router"})

MAX_WEIGHT = 100.0
"""The largest weight a finding may carry as evidence: ranks stay comparable,
and no sum of weights can overflow to infinity (which JSON cannot carry)."""


@dataclass(frozen=True)
class InputSpec:
    """A value the engineer fills in before the diagnosis runs."""

    name: str
    prompt: str
    prompt_zh: str
    default: str | None = None
    kind: str = "text"


@dataclass(frozen=True)
class Step:
    """One step: a probe with parameters, or an instruction for a person."""

    id: str
    probe: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    text_zh: str = ""
    retest_of: str | None = None

    @property
    def is_manual(self) -> bool:
        """True for a step a person performs."""
        return self.probe is None


@dataclass(frozen=True)
class Evidence:
    """Which findings support a case and which rule it out."""

    supports: dict[str, float] = field(default_factory=dict)
    rules_out: tuple[str, ...] = ()
    cause: str = ""
    cause_zh: str = ""


@dataclass(frozen=True)
class ActionSpec:
    """An action a case proposes when its condition on finding codes holds."""

    id: str
    kind: str
    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    text_zh: str = ""

    def holds(self, codes: set[str]) -> bool:
        """True when all ``all_of``, one of ``any_of`` and none of ``none_of`` are present."""
        return (
            set(self.all_of) <= codes
            and (not self.any_of or bool(set(self.any_of) & codes))
            and not set(self.none_of) & codes
        )

    @property
    def evidence_codes(self) -> set[str]:
        """The codes whose findings explain why the action is proposed."""
        return set(self.all_of) | set(self.any_of)


@dataclass(frozen=True)
class Playbook:
    """Everything a case says about diagnosing it."""

    case_id: str
    inputs: dict[str, InputSpec] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    evidence: Evidence = field(default_factory=Evidence)
    actions: tuple[ActionSpec, ...] = ()

    def step(self, step_id: str) -> Step:
        """Return the step with this id."""
        return next(step for step in self.steps if step.id == step_id)


class _Checker:
    """Collects problems while reading one case's playbook."""

    def __init__(
        self,
        case: Case,
        probe_params: Mapping[str, frozenset[str]],
        kinds: frozenset[str],
    ) -> None:
        self.case = case
        self.probe_params = probe_params
        self.kinds = kinds
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.case.line_of(path), message))

    def mapping(self, value: Any, path: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, f"'{path}' must be a mapping.")
            return {}
        return value

    def bilingual(self, raw: dict[str, Any], path: str, key: str) -> tuple[str, str]:
        english, chinese = raw.get(key), raw.get(f"{key}_zh")
        for name, text in ((key, english), (f"{key}_zh", chinese)):
            if not isinstance(text, str) or not text.strip():
                self.fail(path, f"'{path}' needs '{name}' as non-empty text.")
        return str(english or ""), str(chinese or "")

    def codes(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(
            isinstance(code, str) for code in value
        ):
            self.fail(path, f"'{path}' must be a list of finding codes.")
            return ()
        for index, code in enumerate(value):
            self.known_code(code, f"{path}[{index}]")
        return tuple(value)

    def known_code(self, code: str, path: str) -> None:
        if code not in FINDING_CODES:
            self.fail(
                path,
                f"Unknown finding code {code!r}; see `netcase findings` for the list.",
            )

    def lookups(
        self, value: Any, path: str, allowed: set[str], with_findings: bool
    ) -> None:
        for name in placeholders(value):
            if name in allowed or name in SITE_VALUES:
                continue
            code = name.rpartition(".")[0]
            if with_findings and code in FINDING_CODES:
                continue
            hint = (
                "an input, a site value or a finding's data"
                if with_findings
                else "an input"
            )
            self.fail(
                path, f"Unknown look-up {{{name}}} in '{path}': it must name {hint}."
            )


def load_playbook(
    case: Case, probe_params: Mapping[str, frozenset[str]], action_kinds: frozenset[str]
) -> tuple[Playbook, list[Problem]]:
    """Read and check the playbook fields of a case.

    Args:
        case: The case, with its raw reserved fields in ``extra``.
        probe_params: Each known probe's name and accepted parameter names.
        action_kinds: The known action kinds.

    Returns:
        The playbook (empty parts where a part is broken) and every problem.
    """
    check = _Checker(case, probe_params, action_kinds)
    inputs = _inputs(check, case.extra.get("inputs"))
    steps = _steps(check, case.extra.get("diagnose"), inputs)
    evidence = _evidence(check, case.extra.get("evidence"))
    actions = _actions(check, case.extra.get("actions"), set(inputs))
    playbook = Playbook(case.id, inputs, steps, evidence, actions)
    return playbook, check.problems


def _inputs(check: _Checker, raw: Any) -> dict[str, InputSpec]:
    inputs: dict[str, InputSpec] = {}
    for name, spec in check.mapping(raw, "inputs").items():
        path = f"inputs.{name}"
        spec = check.mapping(spec, path)
        prompt, prompt_zh = check.bilingual(spec, path, "prompt")
        kind = spec.get("kind", "text")
        if kind not in INPUT_KINDS:
            check.fail(
                f"{path}.kind",
                f"Unknown input kind {kind!r}; use one of {', '.join(INPUT_KINDS)}.",
            )
        default = spec.get("default")
        if default is not None and kind in INPUT_KINDS:
            _check_default(check, f"{path}.default", kind, str(name), str(default))
        inputs[str(name)] = InputSpec(
            str(name),
            prompt,
            prompt_zh,
            None if default is None else str(default),
            kind,
        )
    return inputs


def _check_default(
    check: _Checker, path: str, kind: str, name: str, default: str
) -> None:
    try:
        check_input(kind, name, default)
    except ConfigError as exc:
        check.fail(path, f"{exc.message} Change its default.")


def _steps(
    check: _Checker, raw: Any, inputs: Mapping[str, InputSpec]
) -> tuple[Step, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        check.fail("diagnose", "'diagnose' must be a list of steps.")
        return ()
    steps: list[Step] = []
    for index, entry in enumerate(raw):
        step = _step(
            check,
            check.mapping(entry, f"diagnose[{index}]"),
            f"diagnose[{index}]",
            inputs,
        )
        if step is None:
            continue
        if any(earlier.id == step.id for earlier in steps):
            check.fail(
                f"diagnose[{index}].id", f"The step id {step.id!r} is used twice."
            )
        if step.retest_of is not None and not any(
            s.id == step.retest_of and not s.is_manual for s in steps
        ):
            check.fail(
                f"diagnose[{index}].retest_of",
                f"'retest_of' names {step.retest_of!r}, which is not an earlier probe step.",
            )
        steps.append(step)
    return tuple(steps)


def _step(
    check: _Checker, raw: dict[str, Any], path: str, inputs: Mapping[str, InputSpec]
) -> Step | None:
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not STEP_ID.match(step_id):
        check.fail(
            path,
            f"Every step needs an 'id' of lowercase letters, digits, '-' or '_', not {step_id!r}.",
        )
        return None
    if "manual" in raw:
        text, text_zh = str(raw.get("manual") or ""), str(raw.get("manual_zh") or "")
        if not text.strip() or not text_zh.strip():
            check.fail(
                path,
                f"The manual step {step_id!r} needs 'manual' and 'manual_zh' instructions.",
            )
        check.lookups(
            [text, text_zh], f"{path}.manual", set(inputs), with_findings=False
        )
        return Step(step_id, text=text, text_zh=text_zh)

    probe = str(raw.get("probe"))
    if probe not in check.probe_params:
        known = ", ".join(sorted(check.probe_params))
        check.fail(
            f"{path}.probe",
            f"Unknown probe {probe!r} in step {step_id!r}; known probes: {known}.",
        )
        return None
    params = check.mapping(raw.get("params"), f"{path}.params")
    for key in params:
        if key not in check.probe_params[probe]:
            accepted = ", ".join(sorted(check.probe_params[probe]))
            check.fail(
                f"{path}.params.{key}",
                f"The probe {probe!r} takes no parameter {key!r}; it takes {accepted}.",
            )
    check.lookups(params, f"{path}.params", set(inputs), with_findings=False)
    input_kinds = {name: spec.kind for name, spec in inputs.items()}
    for key, problem in param_problems(probe, params, input_kinds):
        check.fail(f"{path}.params.{key}", problem)
    retest_of = raw.get("retest_of")
    return Step(
        step_id,
        str(probe),
        params,
        str(raw.get("title") or ""),
        str(raw.get("title_zh") or ""),
        retest_of,
    )


def _evidence(check: _Checker, raw: Any) -> Evidence:
    spec = check.mapping(raw, "evidence")
    supports = check.mapping(spec.get("supports"), "evidence.supports")
    weights: dict[str, float] = {}
    for code, weight in supports.items():
        check.known_code(code, f"evidence.supports.{code}")
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or not 0 < weight <= MAX_WEIGHT
        ):
            check.fail(
                f"evidence.supports.{code}",
                f"The weight of {code!r} must be a number above 0 and at most "
                f"{MAX_WEIGHT:g}, not {weight!r}.",
            )
            continue
        weights[code] = float(weight)
    rules_out = check.codes(spec.get("rules_out"), "evidence.rules_out")
    return Evidence(
        weights,
        rules_out,
        str(spec.get("cause") or ""),
        str(spec.get("cause_zh") or ""),
    )


def _actions(check: _Checker, raw: Any, inputs: set[str]) -> tuple[ActionSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        check.fail("actions", "'actions' must be a list.")
        return ()
    actions: list[ActionSpec] = []
    for index, entry in enumerate(raw):
        path = f"actions[{index}]"
        action = _action(check, index, check.mapping(entry, path), inputs)
        if action is None:
            continue
        if any(earlier.id == action.id for earlier in actions):
            check.fail(f"{path}.id", f"The action id {action.id!r} is used twice.")
        actions.append(action)
    return tuple(actions)


def _action(
    check: _Checker, index: int, spec: dict[str, Any], inputs: set[str]
) -> ActionSpec | None:
    path = f"actions[{index}]"
    kind = spec.get("kind")
    if not isinstance(kind, str) or kind not in check.kinds:
        check.fail(
            f"{path}.kind",
            f"Unknown action kind {kind!r}; known kinds: {', '.join(sorted(check.kinds))}.",
        )
        return None
    when = check.mapping(spec.get("when"), f"{path}.when")
    params = check.mapping(spec.get("params"), f"{path}.params")
    check.lookups(params, f"{path}.params", inputs, with_findings=True)
    text, text_zh = check.bilingual(spec, path, "text")
    return ActionSpec(
        id=str(spec.get("id") or f"{kind}-{index + 1}"),
        kind=str(kind),
        all_of=check.codes(when.get("all_of"), f"{path}.when.all_of"),
        any_of=check.codes(when.get("any_of"), f"{path}.when.any_of"),
        none_of=check.codes(when.get("none_of"), f"{path}.when.none_of"),
        params=params,
        text=text,
        text_zh=text_zh,
    )
