"""``vectorrouter init``: write a commented configuration file."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.markup import escape

from vectorrouter.cli.common import console
from vectorrouter.config import CONFIG_TEMPLATE, parse_config
from vectorrouter.errors import ConfigurationError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="write a commented vectorrouter.toml")
    p.add_argument("path", nargs="?", type=Path, default=Path("vectorrouter.toml"))
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target: Path = args.path
    if target.exists() and not args.force:
        raise ConfigurationError(f"{target} already exists", fix="pass --force to overwrite it")
    import tomllib

    parse_config(tomllib.loads(CONFIG_TEMPLATE), source="the template")  # the template must always validate
    target.write_text(CONFIG_TEMPLATE)
    shown = escape(str(target))
    console.print(f"wrote {shown}; edit it, then run [bold]vectorrouter ingest PATH --config {shown}[/bold]")
    return 0
