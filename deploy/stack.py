"""The scaled shape on one machine, from the repository: N ``beerolympics serve`` instances and M
``beerolympics worker`` processes sharing PostgreSQL and Redis, with nginx in front.

    python -m deploy.stack [--instances 2] [--workers 1] [--port 8080]
                           [--database-url postgresql://…] [--redis-url redis://…]

It uses the PostgreSQL and Redis it is pointed at (by default the ones of a development machine,
127.0.0.1:5432 database ``test`` and 127.0.0.1:6379; a fresh schema is made, and dropped at the
end, unless ``--database-url`` names one), starts everything on free ports of 127.0.0.1 — nginx
as an ordinary process with its own prefix, configuration and temporary folders, never the
system's service — prints the address, and stops it all cleanly on Ctrl-C or SIGTERM.

The integration test and ``bench.party``/``bench.chaos`` drive the same :class:`Stack`.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

HERE = Path(__file__).parent
NGINX_TEMPLATE = HERE / "nginx.conf.template"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
#: Seconds nginx leaves an instance alone after it failed twice (passive health checks).
FAIL_TIMEOUT = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


#: The open files each nginx worker asks for: twice its worker_connections (the template's).
NGINX_OPEN_FILES = 32768


def nginx_open_files() -> int:
    """:data:`NGINX_OPEN_FILES`, or the hard limit nginx starts under when that is lower (only
    a privileged nginx could raise it, and it would log an alert where it cannot)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return NGINX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(NGINX_OPEN_FILES, hard)


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        raise RuntimeError("nginx is not installed (apt-get install nginx-light)")
    return found


def wait_until(
    ok: Callable[[], bool], what: str, within: float, alive: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if alive.poll() is not None:
            raise RuntimeError(f"{what} exited with {alive.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if ok():
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} was not ready within {within:g}s")


class Process:
    """One child process in a session of its own, its output in ``log``."""

    def __init__(self, name: str, command: Sequence[str], log: Path, env: dict[str, str]) -> None:
        self.name = name
        self.command = list(command)
        self.log = log
        self.env = env
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as sink:
            self.popen = subprocess.Popen(
                self.command,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=self.env,
            )
        return self.popen

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def send_signal(self, signum: int) -> None:
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signum)

    def stop(self, signum: int = signal.SIGTERM, within: float = 30) -> None:
        if self.popen is None:
            return
        self.send_signal(signum)
        try:
            self.popen.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)
        self.popen = None

    def kill(self) -> None:
        """``kill -9``: no shutdown at all, as a crash."""
        self.stop(signal.SIGKILL)


class Instance(Process):
    """A ``beerolympics serve`` on its own port, ready once ``/readyz`` says so."""

    def __init__(self, index: int, folder: Path, args: Sequence[str], env: dict[str, str]) -> None:
        self.index = index
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data = folder / f"instance-{index}"
        data.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "beerolympics", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--data-dir", str(data), *args]
        super().__init__(f"instance {index}", command, data / "serve.log", env)

    def start(self, within: float = 120) -> subprocess.Popen[bytes]:
        popen = super().start()
        wait_until(
            lambda: httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200,
            self.name,
            within,
            popen,
        )
        return popen

    def restart(self) -> None:
        """Stop (sockets are told 1001, going away) and start again on the same port."""
        self.stop()
        self.start()


class Stack:
    """N instances and M workers on one database, one Redis, behind one nginx."""

    def __init__(
        self,
        folder: Path,
        *,
        instances: int = 2,
        workers: int = 1,
        port: int | None = None,
        database_url: str | None = None,
        redis_url: str = DEFAULT_REDIS,
        serve_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        nginx_workers: int = 1,
    ) -> None:
        self.folder = folder
        self.redis_url = redis_url
        self._own_schema: str | None = None
        if database_url is None:
            self._own_schema = f"stack_{uuid.uuid4().hex[:10]}"
            base = os.environ.get("BEEROLYMPICS_TEST_POSTGRES", DEFAULT_POSTGRES)
            database_url = with_query(base, f"schema={self._own_schema}")
        self.database_url = database_url
        shared = {
            # What every process of one deployment must agree on.
            "BEEROLYMPICS_DATABASE_URL": database_url,
            "BEEROLYMPICS_PUBSUB_URL": redis_url,
            "BEEROLYMPICS_RATE_LIMIT_URL": with_query(
                redis_url, f"prefix=stack-{uuid.uuid4().hex[:8]}"
            ),
            "BEEROLYMPICS_JOBS_URL": with_query(redis_url, f"queue=stack-{uuid.uuid4().hex[:8]}"),
            "BEEROLYMPICS_SECRET_KEY": f"stack-{uuid.uuid4().hex}",
            # One machine: instances and workers share a folder for photos and clips (a
            # deployment on several machines uses S3-compatible storage: s3://…).
            "BEEROLYMPICS_MEDIA_URL": f"file://{(folder / 'media').resolve()}",
        }
        # The instances run no jobs themselves when workers do.
        serve_env = {"BEEROLYMPICS_JOB_PROCESSES": "0"} if workers else {}
        self.env = {**os.environ, **shared, **(env or {})}
        self.instances = [
            Instance(i, folder, serve_args, {**self.env, **serve_env}) for i in range(instances)
        ]
        self.workers = [
            Process(
                f"worker {i}",
                [sys.executable, "-m", "beerolympics", "worker", "--data-dir", str(folder)],
                folder / f"worker-{i}.log",
                self.env,
            )
            for i in range(workers)
        ]
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.nginx_prefix = folder / "nginx"
        self.nginx_workers = nginx_workers
        self.nginx: Process | None = None

    # -- nginx -------------------------------------------------------------------------------

    def nginx_config(self) -> str:
        upstreams = "\n".join(
            f"        server 127.0.0.1:{i.port} max_fails=2 fail_timeout={FAIL_TIMEOUT}s;"
            for i in self.instances
        )
        replacements = {
            # Workers run as the user that started nginx (a root master would switch to nobody,
            # who may not write to this prefix).
            "{{USER_LINE}}": "user root;" if os.geteuid() == 0 else "",
            "{{WORKERS}}": str(self.nginx_workers),
            "{{PREFIX}}": str(self.nginx_prefix),
            "{{LISTEN}}": f"127.0.0.1:{self.port}",
            "{{UPSTREAMS}}": upstreams,
            "{{OPEN_FILES}}": str(nginx_open_files()),
        }
        text = NGINX_TEMPLATE.read_text()
        for placeholder, value in replacements.items():
            text = text.replace(placeholder, value)
        return text

    def start_nginx(self) -> None:
        for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi", "cache"):
            (self.nginx_prefix / sub).mkdir(parents=True, exist_ok=True)
        config = self.nginx_prefix / "nginx.conf"
        config.write_text(self.nginx_config())
        command = [nginx_binary(), "-p", str(self.nginx_prefix), "-c", str(config)]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx rejects its configuration:\n{checked.stderr}")
        self.nginx = Process("nginx", command, self.nginx_prefix / "nginx.out", self.env)
        popen = self.nginx.start()
        wait_until(
            lambda: httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200,
            "nginx",
            30,
            popen,
        )

    # -- the whole ---------------------------------------------------------------------------

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            # The first instance creates the schema; the others would race it.
            self.instances[0].start()
            for instance in self.instances[1:]:
                instance.start()
            for worker in self.workers:
                worker.start()
            self.start_nginx()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """nginx first (it stops taking requests), then the instances (live sockets are told
        1001) and the workers; the schema made for this stack is dropped."""
        if self.nginx is not None:
            self.nginx.stop(signal.SIGQUIT)  # graceful: finish what is in flight
        for process in [*self.instances, *self.workers]:
            process.stop()
        if self._own_schema is not None:
            drop_schema(self.database_url, self._own_schema)
            self._own_schema = None

    def rolling_restart(self) -> None:
        """Restart the instances one at a time: each is back and ready, and nginx has had
        time to take it back (it leaves a failed instance alone for ``FAIL_TIMEOUT`` s),
        before the next goes — else nginx would find no instance to send requests to."""
        for n, instance in enumerate(self.instances):
            if n:
                time.sleep(FAIL_TIMEOUT + 0.5)
            instance.restart()

    def nginx_access_log(self) -> Path:
        return self.nginx_prefix / "access.log"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def drop_schema(database_url: str, schema: str) -> None:
    import asyncio

    import asyncpg

    from beerolympics.adapters.postgres.eventstore import split_schema

    async def drop() -> None:
        conn = await asyncpg.connect(split_schema(database_url)[0])
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    # In a thread of its own: the caller may be running an event loop (an async test).
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, drop()).result()


@contextlib.contextmanager
def running(**options: object) -> Iterator[Stack]:
    """A :class:`Stack` in a temporary folder, stopped and removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="beerolympics-stack-") as tmp:
        stack = Stack(Path(tmp), **options)  # type: ignore[arg-type]
        with stack:
            yield stack


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--folder", type=Path, default=None, help="(default: a temporary one)")
    parser.add_argument("serve_args", nargs="*", help="more options for every serve (after --)")
    args = parser.parse_args()
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with contextlib.ExitStack() as exits:
        folder = args.folder or Path(
            exits.enter_context(tempfile.TemporaryDirectory(prefix="beerolympics-stack-"))
        )
        stack = Stack(
            folder,
            instances=args.instances,
            workers=args.workers,
            port=args.port,
            database_url=args.database_url,
            redis_url=args.redis_url,
            serve_args=args.serve_args,
        )
        exits.enter_context(stack)
        print(f"Beer Olympics, scaled: {stack.url}/  ({len(stack.instances)} instances:", end="")
        print(" " + ", ".join(i.url for i in stack.instances), end="")
        print(f"; {len(stack.workers)} workers; logs in {folder}). Ctrl-C stops.", flush=True)
        while not stopping:
            time.sleep(0.2)
    print("stopped.")


if __name__ == "__main__":
    main()
