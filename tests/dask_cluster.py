"""A real Dask cluster on loopback for the tests: a ``dask scheduler`` process and worker
processes, each worker in a working folder and a scratch folder of its own (as separate
machines would have), one thread each, without a nanny (a killed worker stays dead)."""
import contextlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

BIN = pathlib.Path(sys.executable).parent


class Cluster:
    def __init__(self, base, env):
        self.base, self.env = pathlib.Path(base), env
        self.base.mkdir(parents=True, exist_ok=True)
        self.scheduler_file = self.base / "scheduler.json"
        self.scheduler = None
        self.workers = []

    def _spawn(self, args, cwd, log, env=None):
        cwd.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            return subprocess.Popen([str(BIN / "dask"), *args], cwd=cwd, env=env or self.env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    def start_scheduler(self, env=None):
        """As docs/scaling.md says: one task at a time per single-threaded worker (Dask's
        default saturation, 1.1, would hand each worker a second task to hold)."""
        env = {**(env or self.env), "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}
        self.scheduler_file.unlink(missing_ok=True)
        self.scheduler = self._spawn(["scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address",
                                      ":0", "--scheduler-file", str(self.scheduler_file)],
                                     self.base / "scheduler", self.base / "scheduler.log", env)
        deadline = time.monotonic() + 120
        while not self.scheduler_file.exists():
            assert self.scheduler.poll() is None, self.log("scheduler")
            assert time.monotonic() < deadline, "the scheduler wrote no address in 120 s"
            time.sleep(0.2)
        time.sleep(0.2)   # written whole: read it once it parses
        self.address = json.loads(self.scheduler_file.read_text())["address"]
        return self

    def start_worker(self, name, env=None):
        home = self.base / name
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        env = {**(env or self.env), "TMPDIR": str(home / "tmp")}
        proc = self._spawn(["worker", self.address, "--nthreads", "1", "--no-nanny", "--name", name,
                            "--host", "127.0.0.1", "--local-directory", str(home / "local")],
                           home / "cwd", self.base / f"{name}.log", env)
        self.workers.append(proc)
        return proc

    def wait_for_workers(self, n, timeout=180):
        from distributed import Client
        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(n, timeout=timeout)
            return sorted(w["name"] for w in client.scheduler_info(n_workers=-1)["workers"].values())

    def log(self, name):
        path = self.base / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self):
        for proc in [*self.workers, self.scheduler]:
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@contextlib.contextmanager
def cluster(base, env, workers=2):
    c = Cluster(base, env).start_scheduler()
    try:
        for i in range(workers):
            c.start_worker(f"worker{i + 1}")
        if workers:
            c.wait_for_workers(workers)
        yield c
    finally:
        c.stop()
