"""``vectorrouter audit verify``: recompute the compliance audit log's hash chain; ``audit head``: print its anchor.

The exit code of ``verify`` is 0 when the chain is intact, 1 when an entry was edited, removed or reordered (each
problem is listed with its position). Keep the output of ``audit head`` somewhere else (a ticket, another system)
and pass it back as ``--anchor`` to also detect a truncated tail.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from vectorrouter.cli.common import add_router_args, console
from vectorrouter.cli.forget import load_compliance_config
from vectorrouter.errors import ConfigurationError

__all__ = ["register", "run"]

_ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="compliance audit log: verify its hash chain, print its head")
    action = p.add_subparsers(dest="action", metavar="ACTION")
    action.required = True
    verify = action.add_parser("verify", help="detect edited, removed or reordered entries")
    verify.add_argument("--anchor", help="SEQ:DIGEST printed earlier by `audit head` (detects a cut tail)")
    head = action.add_parser("head", help="print the newest entry as SEQ:DIGEST, to keep elsewhere")
    for a in (verify, head):
        add_router_args(a)
        a.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vectorrouter.compliance.audit import AuditHead, AuditLog

    cfg, _ = load_compliance_config(args)
    assert cfg.compliance is not None
    anchor = None
    if getattr(args, "anchor", None):
        m = _ANCHOR.match(args.anchor)
        if m is None:
            raise ConfigurationError(
                f"--anchor {args.anchor!r} is not SEQ:DIGEST",
                field="--anchor",
                fix="paste `audit head` output",
            )
        anchor = AuditHead(int(m.group(1)), m.group(2))
    root = Path(cfg.path) if cfg.path is not None else None
    db = cfg.compliance.open_database(root)
    try:
        log = AuditLog(db, key=cfg.compliance.audit_key())
        if args.action == "head":
            current = log.head()
            print(f"{current.seq}:{current.digest}" if current else "empty")
            return 0
        result = log.verify(anchor=anchor)
    finally:
        db.close()
    console.print(result.summary(), highlight=False, markup=False)
    return 0 if result.ok else 1
