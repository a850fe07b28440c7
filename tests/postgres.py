"""A throwaway PostgreSQL server for the gradebook tests: its own data folder, a Unix
socket only (no TCP port to collide with), trust authentication, stopped afterwards.

Debian's server binaries live in /usr/lib/postgresql/<version>/bin; .ci/run installs
the package where it is missing. PostgreSQL refuses to run as root, so as root the
server runs as the `postgres` system user the package creates.
"""
import contextlib
import glob
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile


def server_bin():
    """The folder holding initdb and pg_ctl, or None."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return pathlib.Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return pathlib.Path(versions[-1]).parent if versions else None


def missing_reason():
    if server_bin() is None:
        return "no PostgreSQL server binaries (apt-get install postgresql; .ci/run does it in CI)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return ""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(database="gradebook"):
    """Start a server, create ``database``, yield its SQLAlchemy URL, stop the server."""
    bindir = server_bin()
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    home = pathlib.Path(tempfile.mkdtemp(prefix="pg-"))   # /tmp: the postgres user can reach it
    data, sock = home / "data", home / "sock"
    sock.mkdir()
    if as_root:
        user = pwd.getpwnam("postgres")
        os.chown(home, user.pw_uid, user.pw_gid)
        os.chown(sock, user.pw_uid, user.pw_gid)
    port = _free_port()
    log = home / "server.log"

    def run(*cmd):
        out = subprocess.run([*run_as, *cmd], capture_output=True, text=True)
        if out.returncode != 0:
            extra = log.read_text() if log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}\n{extra}")
        return out

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "120", "start",
            "-o", f"-c listen_addresses='' -c unix_socket_directories={sock} -p {port} -c fsync=off")
        run(str(bindir / "createdb"), "-h", str(sock), "-p", str(port), "-U", "postgres", database)
        yield f"postgresql://postgres@/{database}?host={sock}&port={port}"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                           capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
