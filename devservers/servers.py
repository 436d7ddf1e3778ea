"""Real Mosquitto, InfluxDB 1.x and PostgreSQL servers as subprocesses on free loopback ports (tests and
benchmarks).

Each server lives in its own temporary directory; ``stop()``/``start()`` keep that directory, so a
restart finds the broker's persistence file and InfluxDB's data again (outage tests rely on it).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from smartward.ports import free_port

__all__ = ["InfluxDB", "Mosquitto", "PostgreSQL", "ServiceUnavailable", "free_port"]


class ServiceUnavailable(RuntimeError):
    """The server binary is missing or did not become ready."""


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceUnavailable(f"exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise ServiceUnavailable(f"port {port} not open after {timeout}s: {log.read_text(errors='replace')[-2000:]}")


class _Server:
    binary = ""

    def __init__(self, workdir: Path | None = None) -> None:
        self.dir = Path(workdir or tempfile.mkdtemp(prefix=f"sw-{self.binary}-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.dir / "server.log"

    @classmethod
    def available(cls) -> bool:
        return shutil.which(cls.binary) is not None or Path(f"/usr/sbin/{cls.binary}").exists()

    @classmethod
    def exe(cls) -> str:
        found = shutil.which(cls.binary) or (f"/usr/sbin/{cls.binary}" if Path(f"/usr/sbin/{cls.binary}").exists() else None)
        if not found:
            raise ServiceUnavailable(f"{cls.binary} is not installed (scripts/bootstrap.sh installs it)")
        return found

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _spawn(self, argv: list[str]) -> None:
        logf = open(self.log, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, cwd=self.dir, start_new_session=True)
        logf.close()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Mosquitto(_Server):
    """A Mosquitto broker with persistence, anonymous access, and queue limits sized for bursts.

    ``tls=True``: its only listener speaks TLS, with a throw-away CA and server certificate generated in
    its directory (:mod:`devservers.pki`); ``url`` is then ``mqtts://127.0.0.1:PORT?ca=CA``."""

    binary = "mosquitto"

    def __init__(self, workdir: Path | None = None, port: int | None = None, extra_conf: str = "",
                 tls: bool = False) -> None:
        super().__init__(workdir)
        self.port = port or free_port()
        self.extra_conf = extra_conf
        self.tls = tls

    @property
    def ca(self) -> Path:
        """The CA file that signed a TLS broker's certificate."""
        return self.dir / "pki" / "ca.crt"

    @property
    def url(self) -> str:
        if self.tls:
            return f"mqtts://127.0.0.1:{self.port}?ca={self.ca}"
        return f"mqtt://127.0.0.1:{self.port}"

    def _listener(self) -> str:
        if not self.tls:
            return f"listener {self.port} 127.0.0.1\n"
        from .pki import make_test_pki

        pki = make_test_pki(self.dir / "pki")
        return (f"listener {self.port} 127.0.0.1\ncertfile {pki.server_cert}\nkeyfile {pki.server_key}\n"
                f"cafile {pki.ca}\ntls_version tlsv1.2\n")

    def start(self) -> Mosquitto:
        conf = self.dir / "mosquitto.conf"
        conf.write_text(
            self._listener()
            + "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.dir}/\n"
            "autosave_interval 1\n"
            "autosave_on_changes false\n"
            "max_inflight_messages 0\n"
            "max_queued_messages 1000000\n"
            "max_queued_bytes 0\n"
            "max_packet_size 1048576\n"
            "log_dest stdout\n"
            "log_type error\nlog_type warning\n"
            # As root, Mosquitto drops to user "mosquitto", which cannot write our temp dir: its
            # persistence file would silently never be saved and a restart would lose queued messages.
            + ("user root\n" if hasattr(os, "geteuid") and os.geteuid() == 0 else "")
            + self.extra_conf
        )
        self._spawn([self.exe(), "-c", str(conf)])
        assert self.proc is not None
        _wait_port(self.port, self.proc, self.log)
        return self


class InfluxDB(_Server):
    """InfluxDB 1.x (Debian's ``influxd``) with HTTP on a free port; v1 API ``/write`` and ``/query``."""

    binary = "influxd"

    def __init__(self, workdir: Path | None = None) -> None:
        super().__init__(workdir)
        self.port = free_port()
        self.rpc_port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def store_url(self, db: str) -> str:
        return f"influxdb://127.0.0.1:{self.port}/{db}"

    def start(self) -> InfluxDB:
        conf = self.dir / "influxdb.conf"
        d = self.dir
        conf.write_text(
            f"""reporting-disabled = true
bind-address = "127.0.0.1:{self.rpc_port}"
[meta]
  dir = "{d}/meta"
  logging-enabled = false
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false
  index-version = "inmem"
  cache-snapshot-write-cold-duration = "10s"
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = true
  log-enabled = false
  run-interval = "1s"
[http]
  enabled = true
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
  pprof-enabled = false
  max-body-size = 0
"""
        )
        env = dict(os.environ, INFLUXDB_DATA_QUERY_LOG_ENABLED="false")
        logf = open(self.log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen([self.exe(), "run", "-config", str(conf)], stdout=logf, stderr=subprocess.STDOUT,
                                     cwd=self.dir, env=env, start_new_session=True)
        logf.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServiceUnavailable(f"influxd exited: {self.log.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/ping", timeout=0.5).status_code == 204:
                    return self
            time.sleep(0.1)
        raise ServiceUnavailable("influxd did not answer /ping within 30 s")

    # -- helpers for assertions ------------------------------------------------------------
    def query(self, q: str, db: str) -> list[dict[str, object]]:
        """Run InfluxQL; return the rows of the first series of the first statement as dicts."""
        r = httpx.get(f"{self.url}/query", params={"q": q, "db": db, "epoch": "ms"}, timeout=30)
        r.raise_for_status()
        res = r.json()["results"][0]
        if "error" in res:
            raise RuntimeError(res["error"])
        rows: list[dict[str, object]] = []
        for series in res.get("series", []):
            for values in series["values"]:
                row = dict(zip(series["columns"], values, strict=True))
                row.update(series.get("tags", {}))
                rows.append(row)
        return rows

    def create_db(self, db: str) -> None:
        httpx.post(f"{self.url}/query", params={"q": f'CREATE DATABASE "{db}"'}, timeout=10).raise_for_status()


class PostgreSQL(_Server):
    """PostgreSQL (Debian's ``postgresql``: binaries in ``/usr/lib/postgresql/N/bin``) on a free loopback
    port: a fresh cluster (``initdb``, trust authentication, no fsync) in its own directory. As root it
    runs as the ``postgres`` system user, since the server refuses to run as root."""

    binary = "postgres"
    user = "smartward"

    def __init__(self, workdir: Path | None = None) -> None:
        super().__init__(workdir)
        self.port = free_port()

    @classmethod
    def bindir(cls) -> Path | None:
        """The directory of ``postgres`` and ``initdb``: on PATH, else the newest Debian version."""
        found = shutil.which("postgres")
        if found and shutil.which("initdb"):
            return Path(found).parent
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                          key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
        return versions[-1].parent if versions and (versions[-1].parent / "initdb").exists() else None

    @classmethod
    def available(cls) -> bool:
        return cls.bindir() is not None

    @classmethod
    def exe(cls) -> str:
        bindir = cls.bindir()
        if bindir is None:
            raise ServiceUnavailable("postgres is not installed (scripts/bootstrap.sh --test installs postgresql)")
        return str(bindir / "postgres")

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{db}"

    def _run_as(self) -> str | None:
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise ServiceUnavailable("running as root needs the postgres system user (Debian's postgresql "
                                     "package creates it)") from None
        return "postgres"

    def start(self) -> PostgreSQL:
        exe = Path(self.exe())
        data = self.dir / "data"
        user = self._run_as()
        if user is not None:
            shutil.chown(self.dir, user)
        if not data.exists():
            proc = subprocess.run([str(exe.with_name("initdb")), "-D", str(data), "-U", self.user, "--auth=trust",
                                   "--no-sync", "-E", "UTF8", "--locale=C"], user=user, cwd=self.dir,
                                  capture_output=True, check=False)
            if proc.returncode != 0:
                raise ServiceUnavailable(f"initdb failed: {proc.stderr.decode(errors='replace')[-2000:]}")
        logf = open(self.log, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [str(exe), "-D", str(data), "-p", str(self.port), "-k", str(self.dir), "-c", "listen_addresses=127.0.0.1",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=logf, stderr=subprocess.STDOUT, cwd=self.dir, user=user, start_new_session=True)
        logf.close()
        _wait_port(self.port, self.proc, self.log, timeout=30.0)
        return self

    def create_db(self, db: str) -> str:
        """A new empty database; returns its URL."""
        import sqlalchemy as sa

        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{db}"')
        finally:
            engine.dispose()
        return self.url(db)
