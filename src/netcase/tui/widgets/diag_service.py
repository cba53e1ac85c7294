"""The diagnosis service as the TUI builds it, and how its failures are shown."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from textual.app import App
from textual.widget import Widget

from netcase.errors import NetcaseError

if TYPE_CHECKING:
    from netcase.diagnose.service import DiagnosisService
    from netcase.kb.service import KnowledgeBase

log = logging.getLogger(__name__)


def diagnosis_service(app: App[object], kb: KnowledgeBase) -> DiagnosisService:
    """Build the diagnosis service for the App's site (call it off the event loop).

    The service module loads SQLAlchemy, so it is imported here rather than
    when the TUI starts.
    """
    from netcase.diagnose.service import DiagnosisService
    from netcase.site import load_site

    site = getattr(app, "site", None) or load_site(None)
    return DiagnosisService(kb, site)


def notify_failure(node: Widget, error: BaseException | None) -> None:
    """Show a worker's failure as an error notification."""
    if isinstance(error, NetcaseError):
        title, text = error.title, error.message
    else:
        title, text = "Unexpected error", f"{type(error).__name__}: {error}"
    log.error("diagnosis worker failed: %s", text, exc_info=error)
    node.notify(text, title=title, severity="error", timeout=20, markup=False)
