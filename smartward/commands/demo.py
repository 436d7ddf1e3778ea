"""``smartward demo``: a whole ward in one process with nothing else installed.

    smartward demo                       # http://127.0.0.1:8000/
    smartward demo --http 0.0.0.0:8080 --beds 24

An embedded MQTT broker (amqtt), the embedded SQLite vitals store and state DB in ``var/demo/``,
ingest (one in-process worker), alerting, the HTTP app, and the simulator (a mixed ward: most beds
stable, some scripted: sepsis, desaturation, bradycardia, sensor-off, device-offline, replay),
its devices auto-assigned to beds of the demo ward.

NEWS2 also needs what no monitor measures (consciousness, air or oxygen): simulated nurse rounds
send them as spot observations over MQTT, as an e-obs/EHR interface would (``smartward.nurse_rounds``):
a round at start, then every --obs-hours of scenario time (default 4 h = 48 min at --speed 5). The
last bed is a new admission without observations yet, so its NEWS2 shows as incomplete.

amqtt speaks MQTT 3.1.1 only (no v5, no shared subscriptions), so the demo runs ingest as a single
worker with a plain persistent subscription and the simulator publishes over 3.1.1; production
(``smartward serve`` + Mosquitto) uses MQTT v5 and shared subscriptions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
from typing import TYPE_CHECKING, Any

from smartward.alarm_file import add_alarms_option, alarm_extra

if TYPE_CHECKING:
    from gateway_agent import Simulation, SimulationOptions
    from smartward.compose import Platform
    from smartward.nurse_rounds import NurseRounds

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="everything in one process: embedded broker + store, ingest, alerting, UI, simulator",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--http", default="127.0.0.1:8000", metavar="HOST:PORT", help="HTTP bind (default 127.0.0.1:8000)")
    p.add_argument("--beds", type=int, default=12, metavar="N", help="simulated beds (default 12)")
    p.add_argument("--data-dir", default="var/demo", metavar="DIR", help="store, state, outbox (default var/demo)")
    p.add_argument("--mqtt-port", type=int, default=0, metavar="PORT", help="embedded broker port (default: a free one)")
    p.add_argument("--ward", default="w1", metavar="W", help="ward id (default w1)")
    p.add_argument("--scenario", default="mixed", metavar="S", help="simulator scenario (default mixed)")
    p.add_argument("--rate", type=float, default=1.0, metavar="HZ", help="samples per second per bed (default 1)")
    p.add_argument("--speed", type=float, default=5.0, metavar="X",
                   help="scenario time compression, so scripted events show within minutes (default 5)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="simulator seed (default 0)")
    p.add_argument("--waves", type=int, default=2, metavar="N", help="beds that also send ECG/pleth (default 2)")
    p.add_argument("--history-hours", type=float, default=6.0, metavar="H",
                   help="hours of simulated history written for each bed on first start, so trends are not "
                        "empty (default 6; 0: none)")
    p.add_argument("--obs-hours", type=float, default=4.0, metavar="H",
                   help="nurse observation rounds every H hours of scenario time (default 4; 0: none)")
    add_alarms_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from smartward.cli_errors import fail, usage_error
    from smartward.ports import free_port

    if args.beds < 1 or args.rate <= 0 or args.obs_hours < 0 or not 0 <= args.history_hours <= 48:
        return usage_error("demo", "--beds must be >= 1, --rate > 0, --obs-hours >= 0 and --history-hours 0..48")
    if not args.http.rpartition(":")[2].isdigit():
        return usage_error("demo", f"--http {args.http!r} is not HOST:PORT")
    args.platform_extra = alarm_extra("demo", args.alarms)
    if args.platform_extra is None:
        return 1
    _quiet_embedded_broker()
    if logging.getLogger().level > logging.DEBUG:  # a "connected" line per simulated device is noise here
        logging.getLogger("gateway_agent.publisher").setLevel(logging.WARNING)
    # The demo is development: without SMARTWARD_SECRET_KEY the API signs with a throw-away key
    # (production, the default everywhere else, refuses to start without a strong one). Set in the
    # environment, so the settings read below and any child process agree.
    os.environ["SMARTWARD_ENVIRONMENT"] = "development"
    data_dir = os.path.abspath(args.data_dir)
    os.makedirs(data_dir, exist_ok=True)
    # Before anything is touched: a second demo on the same data would reset the first one's logins.
    with open(os.path.join(data_dir, "demo.lock"), "a+") as lock:
        if not _lock(lock):
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            return fail("demo", f"a demo is already running with its data in {data_dir} ({holder}); stop it "
                                "(Ctrl-C in its terminal), or give this one its own --data-dir and --http port")
        busy = _port_in_use(args.http)
        if busy:
            return fail("demo", busy)
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}, http {args.http}\n")
        lock.flush()
        mqtt_port = args.mqtt_port or free_port()
        try:
            return asyncio.run(_main(args, data_dir, mqtt_port))
        except KeyboardInterrupt:
            return 0


def _lock(f: Any) -> bool:
    """An exclusive lock on the data directory's ``demo.lock``, released when the process ends."""
    import fcntl

    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _port_in_use(bind: str) -> str:
    """Why the HTTP address cannot be served (already in use, or not ours to bind), or ''."""
    import socket

    host, _, port = bind.rpartition(":")
    with socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host.strip("[]") or "0.0.0.0", int(port)))
        except OSError as exc:
            return (f"cannot serve http on {bind}: {exc.strerror or exc}; is another demo or server using it? "
                    "Pass --http HOST:PORT with a free port")
    return ""


async def _main(args: argparse.Namespace, data_dir: str, mqtt_port: int) -> int:
    from gateway_agent import GatewayError, PublisherOptions, SimulationOptions, WardOptions
    from smartward.compose import PlatformConfig, run_platform, run_until_signal
    from smartward.settings import load_settings

    settings = load_settings()
    if settings.twin_aliases is None:
        # The facility page simulates the demo ward on the shipped 30-bed layout (its live census: the demo's beds).
        settings = settings.model_copy(update={"twin_aliases": f"{args.ward}=medsurg-4"})
    broker_url = f"mqtt://127.0.0.1:{mqtt_port}"
    config = PlatformConfig(
        broker=broker_url, store=f"sqlite:///{data_dir}/vitals.sqlite3", state=f"sqlite:///{data_dir}/state.sqlite3",
        data_dir=data_dir, http=args.http, ingest_workers=0, auto_assign=args.ward, mqtt_v5=False,
        client_prefix="sw-demo-ingest", extra=args.platform_extra, settings=settings)
    try:
        sim = SimulatorComponent(SimulationOptions(
            broker=broker_url, outbox=os.path.join(data_dir, "outbox"), rate=args.rate,
            ward=WardOptions(beds=args.beds, ward=args.ward, scenario=args.scenario, seed=args.seed,
                             speed=args.speed, waves=args.waves),
            publisher=PublisherOptions(broker=broker_url, client_id="", mqtt_v5=False, backoff_max=2.0)))
    except GatewayError as exc:
        from smartward.cli_errors import usage_error

        return usage_error("demo", str(exc))
    demo_patient = _seed_ward(config.state, args.ward, sim)
    if args.history_hours > 0:
        await _history(config.store, args.ward, sim, args.history_hours, args.seed)
    extra: list[Any] = [sim]
    rounds = None
    if args.obs_hours > 0:
        from smartward.nurse_rounds import NurseRounds, RoundsOptions

        rounds = NurseRounds(sim.sim.ward, RoundsOptions(interval_s=args.obs_hours * 3600, speed=args.speed),
                             os.path.join(data_dir, "e-obs-outbox"),
                             PublisherOptions(broker=broker_url, client_id="sw-demo-e-obs", mqtt_v5=False, backoff_max=2.0))
        extra.append(rounds)
    async with EmbeddedBroker("127.0.0.1", mqtt_port):
        print(f"smartward demo: broker {broker_url} (embedded amqtt, MQTT 3.1.1), data in {data_dir}, "
              f"{args.beds} simulated beds ({sim.describe()})", flush=True)
        return await run_until_signal(run_platform(config, extra_components=extra,
                                                   on_ready=announce_when_ready(args.http, args.ward,
                                                                                demo_patient, rounds)))



def _seed_ward(state_url: str, ward: str, sim: SimulatorComponent) -> str:
    """Each simulated monitor on its own bed (device of bed 03 on bed 03) with a pseudonymous demo
    patient admitted, so tiles, NEWS2, trends and FHIR show a patient. Kept across demo restarts.
    Returns the first bed's demo patient (the demo's patient login)."""
    from ingest import AttributionError, Attributions, make_engine

    engine = make_engine(state_url)
    try:
        attributions = Attributions(engine)
        for b in sim.sim.ward.beds:
            if not attributions.known(b.device):
                attributions.assign_device(b.device, ward, b.bed)
            patient = f"DEMO-{ward}-{b.bed}"
            if attributions.bed_of(patient) is not None:
                continue
            try:
                attributions.admit(patient, ward, b.bed)
            except AttributionError as exc:  # the bed was given to someone else through the API
                log.info("demo: bed %s/%s left as it is (%s)", ward, b.bed, exc)
    finally:
        engine.dispose()
    return f"DEMO-{ward}-{sim.sim.ward.beds[0].bed}"


async def _history(store_url: str, ward: str, sim: SimulatorComponent, hours: float, seed: int) -> None:
    """A few hours of baseline history per bed (:mod:`smartward.demo_history`) so trends are not empty."""
    from device_profiles import now_ms
    from ingest.stores import open_store
    from smartward.demo_history import HistoryBed, backfill

    store = await open_store(store_url)
    try:
        beds = [HistoryBed(b.device, ward, b.bed, f"DEMO-{ward}-{b.bed}", b.patient) for b in sim.sim.ward.beds]
        n = await backfill(store, beds, now_ms(), hours, seed)
    finally:
        await store.close()
    if n:
        print(f"smartward demo: wrote {hours:g} h of simulated history ({n} samples) so trends start filled",
              flush=True)


class _ProbeNoise(logging.Filter):
    """Readiness probes open and close a TCP connection; amqtt logs each as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return "No data to decode MQTT packet" not in msg and "No data from" not in msg


def _quiet_embedded_broker() -> None:
    logging.getLogger("transitions").setLevel(logging.WARNING)
    for name in ("amqtt", "amqtt.broker", "amqtt.broker.plugins"):
        lg = logging.getLogger(name)
        lg.setLevel(max(lg.getEffectiveLevel(), logging.WARNING))
        lg.addFilter(_ProbeNoise())


class EmbeddedBroker:
    """amqtt in this process: anonymous, loopback, MQTT 3.1.1 (``async with``)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._broker: Any = None

    async def __aenter__(self) -> EmbeddedBroker:
        import warnings

        from amqtt.broker import Broker

        cfg = {"listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
               "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self._broker = Broker(cfg)
        await self._broker.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._broker.shutdown()


class SimulatorComponent:
    """The ward simulator as a platform component (``name``, ``run``, ``ready``)."""

    name = "simulator"

    def __init__(self, options: SimulationOptions) -> None:
        from gateway_agent import Simulation

        self.sim: Simulation = Simulation(options)

    def describe(self) -> str:
        plan: dict[str, int] = {}
        for b in self.sim.ward.beds:
            plan[b.scenario_name] = plan.get(b.scenario_name, 0) + 1
        return ", ".join(f"{n} {s}" for s, n in plan.items())

    def ready(self) -> bool:
        return any(p.ready() for p in self.sim.publishers.values())

    async def run(self) -> None:
        await self.sim.run(None)


def announce_when_ready(bind: str, ward: str = "w1", patient: str = "", rounds: NurseRounds | None = None) -> Any:
    async def announce(platform: Platform) -> None:
        from dashboard_api import demo_facility_login, demo_login
        from dashboard_api.users import demo_patient_login

        if rounds is not None:  # the first round once alerting and the screens' hub listen
            listeners = [c for c in platform.components if c.name in ("alerting", "dashboard-hub")]
            rounds.attach(platform.attributions, lambda: all(c.ready() for c in listeners))

        # A demo charge nurse with a fresh random password per start (never a default secret).
        user, password = demo_login(platform.attributions.engine, (ward, "home"))
        fm_user, fm_password = demo_facility_login(platform.attributions.engine)
        pt = demo_patient_login(platform.attributions.engine, patient) if patient else None
        # the logins come last, once the page, alerting and the screens' hub are up (not buried in start-up logs)
        waited = [c for c in platform.components if c.name in ("http", "alerting", "dashboard-hub")]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(60):
                while not all(c.ready() for c in waited):  # noqa: ASYNC110 - no ready events to await
                    await asyncio.sleep(0.1)
        host, _, port = bind.rpartition(":")
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        print(flush=True)
        print(f"smartward demo: open http://{shown}:{port}/  and log in as {user} / {password}"
              "  (Ctrl-C stops)", flush=True)
        print(f"smartward demo: facility manager (digital twin, drills): http://{shown}:{port}/facility"
              f"  as {fm_user} / {fm_password}", flush=True)
        if pt is not None:
            print(f"smartward demo: patient {patient} (their own data only): http://{shown}:{port}/portal"
                  f"  as {pt[0]} / {pt[1]}", flush=True)
        print(flush=True)

    return announce
