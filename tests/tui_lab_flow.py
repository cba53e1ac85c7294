"""Drive the TUI's PayPal diagnosis inside a lab namespace and print what it found.

tests/test_diagnose_lab.py runs this inside the client namespace of its
two-uplink lab, where the uplinks' source addresses exist, as::

    ip netns exec CLIENT python tests/tui_lab_flow.py KB_DIR SITE_TOML

It types the symptom on the search screen, presses F4 on the best case,
fills the user's IP, runs the playbook, and prints the diagnosis as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys

from textual.widgets import Input

from netcase.config import resolve_paths
from netcase.kb.service import KnowledgeBase
from netcase.site import load_site
from netcase.tui.app import NetcaseApp
from netcase.tui.screens.diagnose import DiagnoseScreen


async def drive(kb_dir: str, site_path: str) -> dict[str, object]:
    app = NetcaseApp(KnowledgeBase(resolve_paths(kb_dir)), load_site(site_path))
    async with app.run_test(size=(80, 24)) as pilot:

        async def settle() -> None:
            for _ in range(3):
                await app.workers.wait_for_complete()
                await pilot.pause()

        await settle()
        await pilot.press(*"paypal 打不开")
        await settle()
        await pilot.press("f4")
        await settle()
        screen = app.screen
        assert isinstance(screen, DiagnoseScreen), type(screen).__name__
        screen.query_one("#input-user_ip", Input).value = "10.0.3.27"
        await pilot.press("ctrl+r")
        await settle()
        assert screen.diagnosis is not None, "the diagnosis did not finish"
        return screen.diagnosis.to_json()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(drive(sys.argv[1], sys.argv[2])), ensure_ascii=False))
