"""Entry point: ``vectorrouter <command>`` (also ``python -m vectorrouter``).

Commands are modules listed in ``COMMANDS``; each defines ``register(subparsers)`` which adds its parser
and sets ``func`` to a callable taking the parsed namespace and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence

from vectorrouter.errors import VectorRouterError

__all__ = ["COMMANDS", "build_parser", "main"]

#: Modules under ``vectorrouter.cli`` that provide commands, in the order ``--help`` lists them.
COMMANDS = [
    "init",
    "ingest",
    "search",
    "namespaces",
    "queue",
    "status",
    "eval",
    "estimate",
    "migrate",
    "forget",
    "audit",
    "demo",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vectorrouter",
        description="Route retrieval over versioned namespaces, fallbacks and compliance hooks.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"vectorrouter.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except VectorRouterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`vectorrouter search --json | head`): stop quietly, as a Unix tool does. Point
        # stdout at /dev/null so the interpreter's last flush does not raise the same error again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # what a shell reports for a tool ended by SIGPIPE
    except (OSError, sqlite3.Error) as exc:
        # a path that is a file where a folder belongs, a folder where a file belongs, a database that will not
        # open: the system's message names the path; -vv shows where it came from
        logging.getLogger("vectorrouter.cli").debug("%s failed", args.command, exc_info=True)
        what = "sqlite: " if isinstance(exc, sqlite3.Error) else ""
        print(f"error: {what}{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
