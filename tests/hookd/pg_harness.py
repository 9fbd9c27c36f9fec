"""A real PostgreSQL server for hookd's tests (Debian's postgresql package), started in a
temporary folder with initdb and pg_ctl, reached through a unix socket in that folder (no TCP
port to collide with).

PostgreSQL refuses to run as root: when the tests run as root (CI), the server runs as the
unprivileged user "nobody" (runuser), and the folder is given to it.

As a program it wraps a command: starts a server, makes an empty database, runs the command
with HOOKD_TEST_STORE=postgresql://... (the database) set, stops the server, exits with the
command's code. CTest runs the store tests on PostgreSQL this way:

    python3 pg_harness.py python3 test_store.py

The tests' server runs with fsync off (they never crash PostgreSQL itself); --fsync keeps it
on, as a real deployment has it (bench/pg.sh).
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

PORT = 5432   # only names the socket file: the server listens on no TCP port


def pg_bin():
    if os.environ.get("PG_BIN"):
        return os.environ["PG_BIN"]
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("no initdb in /usr/lib/postgresql/*/bin: install Debian's postgresql")
    return os.path.dirname(found[-1])


class Postgres:
    """One PostgreSQL server. fsync=False for tests that do not crash the server itself."""

    def __init__(self, fsync=True, settings=None):
        self.bin = pg_bin()
        self.tmp = tempfile.mkdtemp(prefix="hookd-pg-")
        self.data = os.path.join(self.tmp, "data")
        self.fsync = fsync
        self.settings = dict(settings or {})
        self.as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []

    def _run(self, *args, **kw):
        # cwd: the server's user may not be allowed into the caller's folder (root's home)
        return subprocess.run(self.as_user + list(args), check=True, capture_output=True,
                              text=True, timeout=120, cwd=self.tmp, **kw)

    def start(self):
        if self.as_user:
            os.chmod(self.tmp, 0o755)   # root's hookd and psql reach the socket
            shutil.chown(self.tmp, "nobody", "nogroup")
        try:
            self._run(os.path.join(self.bin, "initdb"), "-D", self.data, "-U", "postgres",
                      "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        except subprocess.CalledProcessError as e:
            raise RuntimeError("initdb failed: %s\n%s%s" % (e.cmd, e.stdout, e.stderr))
        return self.server_start()

    def server_start(self):
        """Starts the server (again, after server_stop)."""
        opts = ["-k", self.tmp, "-p", str(PORT), "-c", "listen_addresses=",
                "-c", "fsync=" + ("on" if self.fsync else "off"),
                "-c", "max_connections=200"]
        for k, v in self.settings.items():
            opts += ["-c", "%s=%s" % (k, v)]
        try:
            self._run(os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l",
                      os.path.join(self.tmp, "server.log"), "-w", "-t", "60",
                      "-o", " ".join(opts), "start")
        except subprocess.CalledProcessError as e:
            raise RuntimeError("PostgreSQL did not start: %s\n%s%s\n%s" % (
                e.cmd, e.stdout, e.stderr, self.server_log()))
        return self

    def server_stop(self, mode="fast"):
        """Stops the server, keeping its data (mode: pg_ctl's smart, fast or immediate)."""
        self._run(os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop")

    def server_log(self):
        try:
            with open(os.path.join(self.tmp, "server.log")) as f:
                return f.read()
        except OSError:
            return ""

    def url(self, db="postgres"):
        return "postgresql:///%s?host=%s&port=%d&user=postgres" % (
            db, urllib.parse.quote(self.tmp, safe=""), PORT)

    def psql(self, sql, db="postgres"):
        r = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-A", "-t",
                            "-v", "ON_ERROR_STOP=1", "-h", self.tmp, "-p", str(PORT),
                            "-U", "postgres", "-d", db, "-c", sql],
                           check=True, capture_output=True, text=True, timeout=60)
        return r.stdout.strip()

    def createdb(self, name=None):
        """A new empty database; returns its URL."""
        name = name or "hookd_" + uuid.uuid4().hex[:12]
        self.psql('CREATE DATABASE "%s"' % name)
        return self.url(name)

    def stop(self):
        try:
            self._run(os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "fast", "-w",
                      "stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def new_database(base_url):
    """A new empty database on the server of base_url (HOOKD_TEST_STORE); returns its URL."""
    u = urllib.parse.urlsplit(base_url)
    q = urllib.parse.parse_qs(u.query)
    name = "hookd_" + uuid.uuid4().hex[:12]
    subprocess.run([os.path.join(pg_bin(), "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                    "-h", q["host"][0], "-p", q.get("port", ["5432"])[0],
                    "-U", q.get("user", ["postgres"])[0], "-d", "postgres",
                    "-c", 'CREATE DATABASE "%s"' % name],
                   check=True, capture_output=True, text=True, timeout=60)
    # by hand: urlunsplit drops the empty host of postgresql:///db?host=/socket/folder
    return "%s://%s/%s%s" % (u.scheme, u.netloc, name, "?" + u.query if u.query else "")


def main(argv):
    fsync = bool(argv) and argv[0] == "--fsync"
    argv = argv[1:] if fsync else argv
    if not argv:
        print("usage: pg_harness.py [--fsync] COMMAND [ARG...]", file=sys.stderr)
        return 2
    pg = Postgres(fsync=fsync)
    t0 = time.time()
    pg.start()
    try:
        env = dict(os.environ, HOOKD_TEST_STORE=pg.createdb())
        print("pg_harness: PostgreSQL up in %.1f s at %s" % (time.time() - t0, pg.tmp),
              flush=True)
        return subprocess.run(argv, env=env).returncode
    finally:
        pg.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
