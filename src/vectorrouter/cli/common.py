"""What several commands share: opening the router from ``--config`` or the embedded default, and printing.

User data (namespaces such as ``acme:notes:v1``, record ids, snippets, paths, error reasons) is shown as
written: a table cell or title holding data is :func:`plain` text, a line with intentional markup passes its
data through :func:`rich.markup.escape`, and a line of data only is printed with ``markup=False``. The
console has emoji codes off, or ``acme:notes:v1`` would print as ``acme🎶v1``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.text import Text

from vectorrouter.router import Router

__all__ = ["add_router_args", "config_path", "console", "err_console", "open_router", "plain"]

# Off a terminal (pipes, logs, CI) rich would fold tables to 80 columns; a wider fixed width stays readable.
console = Console(width=None if sys.stdout.isatty() else 160, emoji=False)
#: The same on stderr, for notes that must stay out of machine-readable stdout (``--json -``).
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160, emoji=False)


def plain(value: object, style: str = "") -> Text:
    """``value`` as rich shows it literally: never parsed as markup (``[/b]``) or emoji codes (``:notes:``).

    For table cells, headers and titles that hold data; a title passes ``style="table.title"`` (or
    ``"table.caption"``) to keep the look rich gives a title string.
    """
    return Text(str(value), style=style)


def add_router_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        "-c",
        type=Path,
        default=None,
        help="vectorrouter.toml to use (default: ./vectorrouter.toml if present, else the embedded default)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data folder for the embedded default when no config file is used (default: ./.vectorrouter)",
    )


def config_path(args: argparse.Namespace) -> Path | None:
    """The configuration file a command reads: ``--config``, else ./vectorrouter.toml (unless ``--data-dir``
    asks for the embedded default), else None."""
    config: Path | None = args.config
    if config is None and Path("vectorrouter.toml").exists() and args.data_dir is None:
        config = Path("vectorrouter.toml")
    return config


def open_router(args: argparse.Namespace) -> Router:
    """The router a command works on: :func:`config_path`'s file, else ``Router.embedded``."""
    config = config_path(args)
    if config is not None:
        return Router.from_config(config)
    return Router.embedded(args.data_dir or Path(".vectorrouter"))
