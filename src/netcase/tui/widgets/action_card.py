"""One proposed action as a card: why, scope, risk, the snippet and the user notice.

The card never runs anything. It copies its snippet or notice to the
clipboard, and asks its screen to record that the engineer applied or
rejected it, or to verify it once applied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static

from netcase.diagnose.report import verification_text

if TYPE_CHECKING:
    from netcase.diagnose.actions import ActionCard

STATUS_STYLES = {"proposed": "yellow", "applied": "bold green", "rejected": "red"}
MARK_KEYS = Binding.Group("Mark", compact=True)
"""The footer shows the applied and rejected keys side by side under one label."""
VERDICT_STYLES = {"cleared": "green", "cannot tell": "bold yellow"}
"""How a verification's verdict is coloured; any other (not yet) is red."""
KEYS = "c copy · n notice · f flavour · a applied · r rejected · v verify"


def notice_text(card: ActionCard) -> str:
    """Return the user notice in English, then in Chinese."""
    return "\n\n".join(
        text for text in (card.notice.get("en"), card.notice.get("zh")) if text
    )


class ActionCardView(Static, can_focus=True):
    """Shows an action card and takes the keys that act on it.

    Args:
        card: The proposed action.
        router: The site's router flavour, shown first when the card has it.
    """

    DEFAULT_CSS = """
    ActionCardView {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        border: round $foreground 30%;
    }
    ActionCardView:focus {
        border: round $accent;
        background: $boost;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy_snippet", "Copy"),
        Binding("n", "copy_notice", "Notice"),
        Binding("f", "next_flavour", "Flavour"),
        Binding("a", "mark('applied')", "Applied", group=MARK_KEYS),
        Binding("r", "mark('rejected')", "Rejected", group=MARK_KEYS),
        Binding("v", "verify", "Verify"),
    ]
    """
    All six are in the footer while the card has focus (a and r share one
    label to fit 80 columns); the card's own Keys row names them too.

    | Key(s) | Description |
    | :- | :- |
    | c | Copy the shown snippet to the clipboard. |
    | n | Copy the user notice, English then Chinese, to the clipboard. |
    | f | Show the snippet of the next flavour (router, system). |
    | a | Record that the action was applied. |
    | r | Record that the action was rejected. |
    | v | Run the action's verifying steps again (once applied). |
    """

    class MarkRequested(Message):
        """The engineer applied or rejected the action of a card."""

        def __init__(self, view: ActionCardView, status: str) -> None:
            super().__init__()
            self.view = view
            self.status = status

    class VerifyRequested(Message):
        """The engineer asked to verify an applied action."""

        def __init__(self, view: ActionCardView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, card: ActionCard, router: str = "generic") -> None:
        super().__init__()
        self.card = card
        self.flavours = list(card.snippets)
        self.flavour = (
            router if router in card.snippets else next(iter(self.flavours), "")
        )
        """The flavour whose snippet is shown."""
        self.verification: dict[str, Any] | None = None
        """The last verification's session and findings, once run."""
        self.verifying = False

    @property
    def shown_text(self) -> str:
        """The card's text as drawn, without its styles."""
        return "\n".join(
            f"{label}: {text.plain}" if label else text.plain
            for label, text in self._rows()
        )

    def on_mount(self) -> None:
        """Draw the card."""
        self.redraw()

    def redraw(self) -> None:
        """Draw the card again after its status, flavour or verification changed."""
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column(ratio=1, overflow="fold")
        for label, text in self._rows():
            grid.add_row(label, text)
        self.update(grid)

    def _rows(self) -> list[tuple[str, Text]]:
        """The card as labelled rows; the values wrap under themselves."""
        card = self.card
        title = Text(card.summary, style="bold")
        title.append(f"  [{card.status}]", style=STATUS_STYLES.get(card.status, ""))
        heading = Text(f"{card.kind} · case {card.case_id}", style="dim")
        verify = f"re-run {', '.join(card.verify) or 'the diagnosis'}"
        rows = [
            ("Action", title),
            ("", Text(card.summary_zh)),
            ("", heading),
            ("Why", Text(card.reason or "-")),
            ("Scope", Text(card.scope or "-")),
            ("Risk", Text(card.risk or "-")),
            ("Roll back", Text(card.rollback or "-")),
            ("Verify", Text(verify)),
        ]
        if card.missing:
            missing = f"{', '.join(card.missing)} (the snippet has a placeholder)"
            rows.append(("Fill in", Text(missing, style="bold red")))
        if self.flavour:
            rows.append(("Snippet", self._snippet()))
        rows.append(("Notice", Text(notice_text(card) or "-")))
        return rows + self._verification_rows() + [("Keys", Text(KEYS, style="dim"))]

    def _snippet(self) -> Text:
        others = len(self.flavours) - 1
        hint = f" (f: {others} other{'s' if others != 1 else ''})" if others else ""
        text = Text(f"{self.flavour}{hint}\n", style="dim")
        text.append(self.card.snippets[self.flavour], style="cyan")
        return text

    def _verification_rows(self) -> list[tuple[str, Text]]:
        if self.verifying:
            return [("Verified", Text("running the steps again…", style="italic"))]
        if self.verification is None:
            return []
        verdict = self.verification.get("verdict", "cleared")
        style = VERDICT_STYLES.get(verdict, "bold red")
        return [("Verified", Text(verification_text(self.verification), style=style))]

    def action_copy_snippet(self) -> None:
        """Copy the shown snippet to the clipboard."""
        if not self.flavour:
            self.notify("This action has no snippet.", severity="warning")
            return
        self.app.copy_to_clipboard(self.card.snippets[self.flavour])
        self.notify(f"Copied the {self.flavour} snippet of {self.card.id}.")

    def action_copy_notice(self) -> None:
        """Copy the user notice, both languages, to the clipboard."""
        self.app.copy_to_clipboard(notice_text(self.card))
        self.notify(f"Copied the user notice of {self.card.id}.")

    def action_next_flavour(self) -> None:
        """Show the next flavour's snippet."""
        if len(self.flavours) < 2:
            return
        index = self.flavours.index(self.flavour)
        self.flavour = self.flavours[(index + 1) % len(self.flavours)]
        self.redraw()

    def action_mark(self, status: str) -> None:
        """Ask the screen to record the action as applied or rejected."""
        self.post_message(self.MarkRequested(self, status))

    def action_verify(self) -> None:
        """Ask the screen to verify the action, which must be applied first."""
        if self.card.status != "applied":
            self.notify(
                "Mark the action applied (a) before verifying it.", severity="warning"
            )
            return
        self.post_message(self.VerifyRequested(self))
