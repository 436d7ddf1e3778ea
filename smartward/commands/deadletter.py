"""``smartward deadletter list|replay|status|prune``: inspect rejected device messages, re-process them,
and see or apply the retention and quota (``SMARTWARD_DEADLETTER_*``; ingest prunes by itself)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from smartward.cli_errors import usage_error

if TYPE_CHECKING:
    from smartward.settings import Settings


def _since(text: str | None) -> int | None:
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--since {text!r}: ms since the epoch or ISO 8601") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def register(sub: Any) -> None:
    p = sub.add_parser("deadletter", help="list or replay rejected device messages (dead letters)")
    dsub = p.add_subparsers(dest="deadletter_cmd", required=True, metavar="ACTION")
    for name, helptext in (("list", "print dead letters (time, topic, reason)"),
                           ("replay", "re-process dead letters through the current decoders; store what decodes")):
        a = dsub.add_parser(name, help=helptext)
        a.add_argument("--data-dir", default=None, metavar="DIR", help="where serve keeps dead letters (default SMARTWARD_DATA_DIR)")
        a.add_argument("--since", default=None, metavar="TIME", help="only letters received since (ms or ISO 8601)")
        a.add_argument("--reason-contains", default=None, metavar="TEXT", help="only letters whose reason contains TEXT")
        if name == "list":
            a.add_argument("--payload", action="store_true", help="print the payloads too")
            a.set_defaults(func=run_list)
        else:
            a.add_argument("--store", default=None, metavar="URL", help="vitals store (default SMARTWARD_STORE)")
            a.add_argument("--state", default=None, metavar="URL", help="state DB (default sqlite:///DATA_DIR/state.sqlite3)")
            a.add_argument("--topic-root", default=None, metavar="R")
            a.add_argument("--profiles", action="append", default=[], metavar="DIR", help="profile directory (repeatable)")
            a.set_defaults(func=run_replay)
    for name, helptext, func in (
            ("status", "count, size and age of the dead letters, and the retention and quota applied", "status"),
            ("prune", "apply the retention and quota now (ingest also does so periodically)", "prune")):
        a = dsub.add_parser(name, help=helptext)
        a.add_argument("--data-dir", default=None, metavar="DIR", help="where serve keeps dead letters (default SMARTWARD_DATA_DIR)")
        a.set_defaults(func=run_status if func == "status" else run_prune)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _settings() -> Settings:
    from device_profiles.errors import SettingsError
    from smartward.settings import load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        raise SystemExit(str(exc)) from None


def _letters(args: argparse.Namespace) -> Any:
    from pathlib import Path

    from ingest import DeadLetterStore

    settings = _settings()
    path = Path(args.data_dir or settings.data_dir) / "deadletters.sqlite3"
    try:
        policy = settings.deadletter_policy()
    except ValueError as exc:
        raise SystemExit(f"SMARTWARD_DEADLETTER_*: {exc}") from None
    if not path.exists():
        print(f"no dead letters at {path} (policy: {policy.describe()})", file=sys.stderr)
        return None
    return DeadLetterStore(path, policy)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def run_status(args: argparse.Namespace) -> int:
    letters = _letters(args)
    if letters is None:
        return 0
    oldest = letters.oldest_ms()
    print(f"policy: {letters.policy.describe()} (SMARTWARD_DEADLETTER_RETENTION_DAYS, _MAX_ROWS, _MAX_BYTES, "
          "_PRUNE_INTERVAL_S)")
    print(f"{letters.count()} dead letters, {letters.size_bytes()} payload bytes"
          + (f", oldest received {_when(oldest)}" if oldest is not None else ""))
    return 0


def run_prune(args: argparse.Namespace) -> int:
    from ingest import IngestError

    letters = _letters(args)
    if letters is None:
        return 0
    try:
        result = letters.prune()
    except IngestError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"pruned: {result.expired} expired, {result.over_quota} over quota; {letters.count()} left "
          f"({letters.policy.describe()})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    try:
        since = _since(args.since)
    except argparse.ArgumentTypeError as exc:
        return usage_error("deadletter list", str(exc))
    letters = _letters(args)
    if letters is None:
        return 0
    n = 0
    for d in letters.list(since, args.reason_contains):
        when = datetime.fromtimestamp(d.received_ms / 1000, UTC).isoformat(timespec="milliseconds")
        print(f"{d.id}\t{when}\t{d.topic}\t{d.reason}" + (f"\t(attempts {d.attempts})" if d.attempts else ""))
        if args.payload:
            print("\t" + d.payload[:2000].decode("utf-8", errors="replace"))
        n += 1
    print(f"{n} dead letters (policy: {letters.policy.describe()})", file=sys.stderr)
    return 0


def run_replay(args: argparse.Namespace) -> int:
    import asyncio
    import os

    try:
        since = _since(args.since)
    except argparse.ArgumentTypeError as exc:
        return usage_error("deadletter replay", str(exc))
    letters = _letters(args)
    if letters is None:
        return 0
    settings = _settings()
    data_dir = os.path.abspath(args.data_dir or settings.data_dir)
    from ingest import IngestError, open_store
    from ingest.replay import replay

    profiles = [os.path.abspath(p) for p in args.profiles]

    async def go() -> int:
        try:
            store = await open_store(args.store or settings.store)
        except IngestError as exc:
            print(f"store: {exc}", file=sys.stderr)
            return 1
        try:
            report = await replay(letters, store, args.state or f"sqlite:///{data_dir}/state.sqlite3",
                                  args.topic_root or settings.topic_root, profiles,
                                  since, args.reason_contains)
        finally:
            await store.close()
        for letter_id, reason in report.reasons[:50]:
            print(f"still rejected {letter_id}: {reason}")
        print(f"replayed: {report.stored} stored and removed, {report.still_rejected} still rejected")
        return 1 if report.still_rejected else 0

    return asyncio.run(go())
