"""``vectorrouter forget USER_ID``: erase one user's data everywhere, verify it is gone, report per place.

Needs a configuration file with a ``[compliance]`` section (see :mod:`vectorrouter.compliance.config`); the exit
code is 0 when every place was searched again and held nothing, 1 when residue was found or a place could not
be reached (run it again once the store is back: erasure is idempotent and resumes where it stopped), and 2
when it is refused before erasing anything (e.g. a key whose secret is not the one the data was written with).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vectorrouter.cli.common import add_router_args, console
from vectorrouter.config import RouterConfig, load_config
from vectorrouter.errors import ConfigurationError

__all__ = ["load_compliance_config", "register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("forget", help="erase a user's data from every store, cache and queue; verify; report")
    p.add_argument("user_id", help="the user reference as your application stores it (never logged)")
    p.add_argument("--json", action="store_true", help="print the per-place report as JSON")
    add_router_args(p)
    p.set_defaults(func=run)


def load_compliance_config(args: argparse.Namespace) -> tuple[RouterConfig, Path]:
    """The configuration named by ``--config`` (or ./vectorrouter.toml), which must have ``[compliance]``."""
    path: Path | None = args.config
    if path is None and Path("vectorrouter.toml").exists():
        path = Path("vectorrouter.toml")
    if path is None:
        raise ConfigurationError(
            "this command needs a configuration file with a [compliance] section, and none was found",
            field="compliance",
            fix="pass --config vectorrouter.toml (see docs/compliance.md for the section)",
        )
    cfg = load_config(path)
    if cfg.compliance is None:
        raise ConfigurationError(
            f"{path} has no [compliance] section",
            field="compliance",
            fix='add [compliance] with at least [compliance.metadata."*"] allow = [...]; see docs/compliance.md',
        )
    return cfg, path


def run(args: argparse.Namespace) -> int:
    cfg, _ = load_compliance_config(args)
    with cfg.build() as router:
        report = router.forget(args.user_id)
    if args.json:
        print(
            json.dumps(
                {
                    "job": report.job_id,
                    "subject": report.subject,
                    "ok": report.ok,
                    "resumed": report.resumed,
                    "seconds": report.seconds,
                    "places": [
                        {
                            "place": p.place,
                            "found": p.found,
                            "deleted": p.deleted,
                            "residue": p.residue,
                            "resumed": p.resumed,
                            "error": p.error,
                        }
                        for p in report.places
                    ],
                },
                indent=2,
            )
        )
    else:
        console.print(
            f"erasure job {report.job_id} for subject {report.subject}", highlight=False, markup=False
        )
        console.print(report.summary(), highlight=False, markup=False)
    return 0 if report.ok else 1
