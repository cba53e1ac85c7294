"""Where netcase keeps its state: the case folder, the data home, the database."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from netcase.errors import ConfigError

APP_NAME = "netcase"
PACKAGE_DIR = Path(__file__).resolve().parent
SHIPPED_KB = PACKAGE_DIR / "shipped_kb"
# An editable install runs from the source tree, where the cases sit at the top.
SOURCE_TREE_KB = PACKAGE_DIR.parent.parent / "kb"


@dataclass(frozen=True)
class Paths:
    """The resolved locations for one run.

    Attributes:
        kb_dir: The folder of case files, the source of truth.
        home: netcase's own data folder (database, search index, jieba cache).
        database_url: The SQLAlchemy URL of the catalog.
    """

    kb_dir: Path
    home: Path
    database_url: str

    @property
    def index_root(self) -> Path:
        """The folder holding one search index per case folder."""
        return self.home / "index"


def resolve_kb_dir(explicit: str | Path | None = None) -> Path:
    """Pick the case folder: explicit, then $NETCASE_KB, ./kb, the shipped copy.

    Raises:
        ConfigError: When a folder that was asked for does not exist.
    """
    for source, value in (
        ("--kb", explicit),
        ("NETCASE_KB", os.environ.get("NETCASE_KB")),
    ):
        if value:
            path = Path(value).expanduser()
            if not path.is_dir():
                raise ConfigError(
                    f"The case folder {str(path)!r} given by {source} does not exist."
                )
            return path.resolve()

    for candidate in (Path.cwd() / "kb", SHIPPED_KB, SOURCE_TREE_KB):
        if candidate.is_dir():
            return candidate.resolve()
    raise ConfigError(
        "No case folder found: pass --kb DIR or set NETCASE_KB "
        "to a folder of case files."
    )


def resolve_home() -> Path:
    """Return the data folder: $NETCASE_HOME, else the platform user-data folder."""
    value = os.environ.get("NETCASE_HOME")
    home = (
        Path(value).expanduser()
        if value
        else Path(platformdirs.user_data_dir(APP_NAME))
    )
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"Cannot create the data folder {str(home)!r}: {exc.strerror}. "
            "Set NETCASE_HOME to a writable folder."
        ) from exc
    return home.resolve()


def resolve_paths(kb_dir: str | Path | None = None) -> Paths:
    """Resolve every location for this run from arguments and the environment."""
    home = resolve_home()
    url = os.environ.get("NETCASE_DATABASE_URL") or f"sqlite:///{home / 'netcase.db'}"
    return Paths(kb_dir=resolve_kb_dir(kb_dir), home=home, database_url=url)
