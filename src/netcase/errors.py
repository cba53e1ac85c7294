"""The errors netcase raises for a person to act on."""

from __future__ import annotations

from pathlib import Path


class NetcaseError(Exception):
    """An error with a message a person can act on and a short title.

    Args:
        message: A capitalised sentence ending in a period, naming the bad
            value and, where known, the fix.
        title: A few words for a dialog or notification title.
    """

    title = "netcase error"

    def __init__(self, message: str, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title


class ConfigError(NetcaseError):
    """A setting, path or environment variable that cannot be used."""

    title = "Configuration error"


class CaseFileError(NetcaseError):
    """A case file that cannot be read as a case.

    Args:
        path: The case file.
        line: The 1-based line the problem is on.
        message: What is wrong, as a sentence.
    """

    title = "Case file error"

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.line = line

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class CaseNotFoundError(NetcaseError):
    """A case id that is not in the knowledge base."""

    title = "No such case"
