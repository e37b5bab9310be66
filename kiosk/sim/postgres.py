"""A throwaway PostgreSQL server on a free loopback port: for the HQ tests and benchmarks.

Test and simulation equipment (HQ itself only ever connects to a server it is given).
`PostgresServer(workdir).start()` runs Debian's ``initdb`` and ``pg_ctl`` (PostgreSQL 15 or
newer) in `workdir`; as root the server runs as the ``postgres`` user, which must own the data
directory, the socket directory and the log (a root-owned temporary directory is not enough).
`url` is ``postgresql://postgres@127.0.0.1:PORT/postgres``; `create_database(name)` makes a
fresh database and returns its URL. Missing binaries raise `RuntimeError` naming the package:
a test that needs PostgreSQL fails, it never skips.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from kiosk.sim.net import free_port, is_listening
from kiosk.sim.waiting import wait_until


def pg_bin(name: str) -> str:
    """The newest installed PostgreSQL's `name` binary (initdb, pg_ctl, psql)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise RuntimeError(f"PostgreSQL's {name} is not installed (Debian: apt-get install postgresql)")


class PostgresServer:
    """One ``postgres`` cluster in `workdir/data`, listening on 127.0.0.1:`port` only."""

    def __init__(self, workdir: str | Path, *, port: int | None = None, settings: dict[str, str] | None = None) -> None:
        self.dir = Path(workdir)
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = port or free_port()
        self.settings = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                         "max_connections": "200", "shared_buffers": "128MB", **(settings or {})}
        self._user = None
        if os.geteuid() == 0:
            try:
                self._user = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("no 'postgres' user: install Debian's postgresql package") from None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        kwargs = {"check": True, "capture_output": True, "text": True, "cwd": str(self.dir), **kw}
        if self._user is not None:
            uid, gid = self._user.pw_uid, self._user.pw_gid
            return subprocess.run(args, user=uid, group=gid, extra_groups=[], **kwargs)
        return subprocess.run(args, **kwargs)

    def start(self, timeout_s: float = 60.0) -> PostgresServer:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            os.chmod(self.dir, 0o755)
            for parent in self.dir.parents:     # the postgres user must reach its directory
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o011)
            os.chown(self.dir, self._user.pw_uid, self._user.pw_gid)
        if not (self.data / "PG_VERSION").exists():
            try:
                self._run([pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                           "--no-locale", "--no-sync"])
            except subprocess.CalledProcessError as exc:
                raise RuntimeError(f"initdb failed: {exc.stderr[-2000:]}") from None
        opts = f"-k {self.dir} -p {self.port} -h 127.0.0.1 " + " ".join(f"-c {k}={v}" for k, v in self.settings.items())
        try:
            self._run([pg_bin("pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.log), "-w", "-t",
                       str(int(timeout_s)), "start"])
        except subprocess.CalledProcessError as exc:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {exc.stderr[-1000:]} {tail}") from None
        wait_until(lambda: is_listening(self.port), timeout_s, what=f"PostgreSQL on port {self.port}")
        return self

    def stop(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        try:
            self._run([pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"], check=False)
        except OSError:
            pass

    def create_database(self, name: str) -> str:
        """A new, empty database; its URL."""
        import psycopg
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
