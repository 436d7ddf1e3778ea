"""``smartward serve``: ingest workers + alerting + the HTTP API against a real broker and store."""

from __future__ import annotations

import argparse
import os
from typing import Any

from smartward.alarm_file import add_alarms_option, alarm_extra
from smartward.cli_errors import fail, usage_error


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run ingest workers, alerting and the HTTP API (real broker and store)")
    p.add_argument("--broker", default=None, metavar="URL", help="mqtt://host:port (default SMARTWARD_BROKER)")
    p.add_argument("--store", default=None, metavar="URL",
                   help="influxdb://host:port/db, influxdb2://host:port/org/bucket?token=…, sqlite:///path "
                        "(default SMARTWARD_STORE)")
    p.add_argument("--state", default=None, metavar="URL",
                   help="relational state (SQLAlchemy URL; default sqlite:///DATA_DIR/state.sqlite3)")
    p.add_argument("--http", default="127.0.0.1:8000", metavar="HOST:PORT", help="HTTP bind (default 127.0.0.1:8000)")
    p.add_argument("--ingest-workers", type=int, default=None, metavar="N",
                   help="ingest worker processes on a shared subscription (default min(4, CPUs); 0 = in-process)")
    p.add_argument("--topic-root", default=None, metavar="R", help="topic root (default SMARTWARD_TOPIC_ROOT)")
    p.add_argument("--auto-assign", default=None, metavar="WARD",
                   help="bind unknown devices to beds 01, 02, … of WARD in order of first appearance")
    p.add_argument("--data-dir", default=None, metavar="DIR", help="spool, dead letters, metrics (default SMARTWARD_DATA_DIR)")
    p.add_argument("--profiles", action="append", default=[], metavar="DIR",
                   help="device profile directory, watched for changes (repeatable)")
    p.add_argument("--republish-qos", type=int, choices=(0, 1), default=1,
                   help="QoS of the attributed stream ingest republishes on {root}/wards/… (default 1)")
    p.add_argument("--client-id-prefix", default="", metavar="ID",
                   help="MQTT client id prefix of the workers (default derived from the topic root)")
    p.add_argument("--tls-cert", default=None, metavar="FILE", help="serve HTTPS with this certificate chain (PEM)")
    p.add_argument("--tls-key", default=None, metavar="FILE", help="the certificate's private key (PEM)")
    p.add_argument("--allow-plain-http", action="store_true",
                   help="production: allow plain HTTP off the loopback (ONLY behind a TLS-terminating reverse proxy)")
    add_alarms_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from device_profiles.errors import SettingsError
    from smartward.settings import load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        return usage_error("serve", str(exc))
    data_dir = args.data_dir or settings.data_dir
    workers = args.ingest_workers
    if workers is not None and workers < 0:
        return usage_error("serve", "--ingest-workers must be >= 0")
    from smartward.compose import (
        PlatformConfig,
        default_workers,
        prepare_metrics_dir,
        run_platform,
        run_until_signal,
    )

    prepare_metrics_dir(data_dir)  # before anything imports prometheus_client
    # the ingest worker processes' log level (their environment): SMARTWARD_LOG_LEVEL, else --log-level
    os.environ["SMARTWARD_LOG_LEVEL"] = settings.log_level if "log_level" in settings.model_fields_set \
        else args.log_level
    from ingest import ConfigError, make_store

    config = PlatformConfig(
        broker=args.broker or settings.broker,
        store=args.store or settings.store,
        state=args.state or f"sqlite:///{os.path.abspath(data_dir)}/state.sqlite3",
        data_dir=os.path.abspath(data_dir),
        http=args.http or None,
        topic_root=args.topic_root or settings.topic_root,
        ingest_workers=default_workers() if workers is None else workers,
        auto_assign=args.auto_assign,
        profiles=tuple(os.path.abspath(p) for p in args.profiles),
        client_prefix=args.client_id_prefix,
        republish_qos=args.republish_qos,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        settings=settings,
    )
    if bool(args.tls_cert) != bool(args.tls_key):
        return usage_error("serve", "--tls-cert and --tls-key go together")
    for path in (args.tls_cert, args.tls_key):
        if path and not os.access(path, os.R_OK):
            return usage_error("serve", f"cannot read {path}")
    from smartward.compose import plain_http_refusal

    refusal = plain_http_refusal(config, settings.environment, args.allow_plain_http)
    if refusal is not None:
        return usage_error("serve", refusal)
    from dashboard_api.errors import ConfigError as ApiConfigError

    try:  # the API's secret, scrape token, twin settings and audit key: refused here in one line
        api = settings.api_config()
        settings.audit_key_for(api.environment, config.data_dir)
    except ApiConfigError as exc:
        return usage_error("serve", str(exc))
    alarms = alarm_extra("serve", args.alarms)
    if alarms is None:
        return 1
    config.extra.update(alarms)
    try:
        make_store(config.store)
        from device_profiles import ProfileError, parse_mqtt_url

        parse_mqtt_url(config.broker).tls_context()  # an unreadable CA / client certificate: refused now
    except (ConfigError, ProfileError) as exc:
        return usage_error("serve", str(exc))
    refused = _upgrade_state(config.state)  # before any process opens it; a newer release's DB is refused here
    if refused is not None:
        return refused
    from device_profiles.mqtt_url import redact_url

    scheme = "https" if config.tls_cert else "http"
    print(f"smartward serve: broker {redact_url(config.broker)}, store {redact_url(config.store)}, "
          f"{config.ingest_workers} ingest workers, {scheme}://{config.http}", flush=True)
    return asyncio.run(run_until_signal(run_platform(config, on_ready=_quiet_gc_once_serving)))


async def _quiet_gc_once_serving(platform: Any) -> None:
    """The collector as every platform process runs it (:mod:`device_profiles.process_gc`), once the
    HTTP app has started: its routes, models and tables are then frozen out of the collector's sight."""
    import asyncio

    from device_profiles.process_gc import quiet_gc

    http = [c for c in platform.components if c.name == "http"]
    for _ in range(600):  # the app starts in a few seconds; whatever happens, tune after a minute
        if all(c.ready() for c in http):
            break
        await asyncio.sleep(0.1)
    quiet_gc()


def _upgrade_state(url: str) -> int | None:
    """Bring the state DB to this release's schema (as ``smartward db upgrade``); an exit code when refused."""
    import sqlalchemy as sa

    from device_profiles import state_db

    try:
        engine = state_db.make_engine(url)
    except state_db.StateUrlError as exc:
        return usage_error("serve", str(exc))
    try:
        state_db.ensure_schema(engine)
    except state_db.StateSchemaError as exc:
        return fail("serve", str(exc))
    except sa.exc.SQLAlchemyError as exc:
        return fail("serve", f"cannot use the state DB {state_db.redacted(engine)}: "
                             f"{exc.__class__.__name__}: {getattr(exc, 'orig', exc)}")
    finally:
        engine.dispose()
    return None
