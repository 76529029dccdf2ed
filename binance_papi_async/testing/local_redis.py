"""A throwaway ``redis-server`` on a free 127.0.0.1 port, for tests, examples and benchmarks.

::

    with LocalRedis.start() as server:
        store = RedisBudgetStore.from_url(server.url)

It runs ``redis-server`` from ``PATH`` (``tools/redis_server.sh`` in the repository
installs Debian's package where it is missing) without persistence, in a
temporary directory, and stops it by its PID.  :meth:`restart` stops it and
starts it again on the same port: its data is gone, as after a real restart.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["LocalRedis", "redis_server_path"]

_SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "redis_server.sh"


def redis_server_path() -> str:
    """The ``redis-server`` to run: from ``PATH``, or installed by ``tools/redis_server.sh``
    (in a checkout of the repository).  Raises ``FileNotFoundError`` when there is none."""
    path = shutil.which("redis-server")
    if path is not None:
        return path
    if _SCRIPT.is_file():
        done = subprocess.run(
            ["bash", str(_SCRIPT)], capture_output=True, text=True, timeout=600, check=False
        )
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip().splitlines()[-1]
        raise FileNotFoundError(f"redis-server could not be installed: {done.stderr.strip()}")
    raise FileNotFoundError("redis-server is not installed")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class LocalRedis:
    """One ``redis-server`` process (see the module docstring)."""

    def __init__(self, path: str, port: int) -> None:
        self.path = path
        self.port = port
        self._dir = tempfile.mkdtemp(prefix="papi-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, path: str | None = None) -> LocalRedis:
        """Start a server on a free port and wait until it answers."""
        server = cls(path or redis_server_path(), _free_port())
        server._run()
        return server

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """The server's PID while it runs."""
        return self._process.pid if self._process is not None else None

    def _run(self) -> None:
        args = [self.path, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", self._dir, "--loglevel", "warning"]
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10.0
        while not _ping(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the server (SIGTERM to its PID, SIGKILL after 5 s)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self, down_for: float = 0.0) -> None:
        """Stop, wait ``down_for`` seconds, start again on the same port (the data is lost)."""
        self.stop()
        time.sleep(down_for)
        self._run()

    def close(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(self._dir)

    def __enter__(self) -> LocalRedis:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
