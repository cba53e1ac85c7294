"""The form of a playbook's inputs: the symptom, then one field per input."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

if TYPE_CHECKING:
    from netcase.diagnose.playbook import InputSpec, Playbook

SYMPTOM_ID = "diag-symptom"


def field_id(name: str) -> str:
    """Return the widget id of an input's field."""
    return f"input-{name}"


def _prompt(spec: InputSpec) -> Text:
    text = Text(spec.name, style="bold")
    text.append(f" ({spec.kind})", style="dim")
    text.append(f"  {spec.prompt} / {spec.prompt_zh}")
    return text


class InputsForm(Vertical):
    """Asks for the symptom and every input of a playbook, defaults filled in.

    An emptied field stands for the input's default, or for no value when it
    has none.

    Args:
        playbook: The playbook whose inputs are asked for.
        symptom: What the user reported, as typed so far.
    """

    DEFAULT_CSS = """
    InputsForm {
        height: auto;
        padding: 0 1;
    }
    InputsForm > .form-prompt {
        margin-top: 1;
    }
    InputsForm > Input.-invalid {
        background: $error 20%;
    }
    """

    def __init__(
        self, playbook: Playbook, symptom: str, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.playbook = playbook
        self.symptom = symptom

    def compose(self) -> ComposeResult:
        yield Static(Text("Symptom / 症状", style="bold"), classes="form-prompt")
        yield Input(
            self.symptom,
            placeholder="What the user reports (ranks the cases too)",
            id=SYMPTOM_ID,
            compact=True,
        )
        for spec in self.playbook.inputs.values():
            yield Static(_prompt(spec), classes="form-prompt")
            yield Input(
                spec.default or "",
                placeholder=(
                    f"empty: {spec.default}"
                    if spec.default is not None
                    else "no default: empty leaves it out"
                ),
                id=field_id(spec.name),
                compact=True,
            )

    def symptom_value(self) -> str:
        """Return the symptom as typed."""
        return self.query_one(f"#{SYMPTOM_ID}", Input).value

    def values(self) -> dict[str, str]:
        """Return every input that is filled in, by name."""
        values: dict[str, str] = {}
        for name in self.playbook.inputs:
            value = self.query_one(f"#{field_id(name)}", Input).value
            if value.strip():
                values[name] = value
        return values

    def mark_invalid(self, names: set[str]) -> None:
        """Highlight the fields of ``names`` and clear the others' highlight."""
        for name in self.playbook.inputs:
            field = self.query_one(f"#{field_id(name)}", Input)
            field.set_class(name in names, "-invalid")

    def focus_first(self) -> None:
        """Give the keys to the first input, or to the symptom when there is none."""
        names = list(self.playbook.inputs)
        if names:
            self.focus_field(names[0])
        else:
            self.query_one(f"#{SYMPTOM_ID}", Input).focus()

    def focus_field(self, name: str) -> None:
        """Give one input's field the keys."""
        self.query_one(f"#{field_id(name)}", Input).focus()
