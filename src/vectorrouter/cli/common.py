"""What several commands share: opening the router from ``--config`` or the embedded default."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from vectorrouter.router import Router

__all__ = ["add_router_args", "console", "open_router"]

# Off a terminal (pipes, logs, CI) rich would fold tables to 80 columns; a wider fixed width stays readable.
console = Console(width=None if sys.stdout.isatty() else 160)


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


def open_router(args: argparse.Namespace) -> Router:
    """The router a command works on: ``--config``, else ./vectorrouter.toml, else ``Router.embedded``."""
    config: Path | None = args.config
    if config is None and Path("vectorrouter.toml").exists() and args.data_dir is None:
        config = Path("vectorrouter.toml")
    if config is not None:
        return Router.from_config(config)
    return Router.embedded(args.data_dir or Path(".vectorrouter"))
