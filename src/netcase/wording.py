"""Small helpers for the sentences netcase prints, in every layer."""

from __future__ import annotations


def counted(count: int, noun: str) -> str:
    """Return ``3 problems`` or ``1 problem``: the count and a regular English plural."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
