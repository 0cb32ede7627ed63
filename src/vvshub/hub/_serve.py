"""``vvshub hub serve``: the local hub over the Hugging Face HTTP API, through olah offline.

olah (an HF mirror server) serves git repositories under ``mirrors-path`` as
``ROOT/models/ORG/NAME``, which is exactly the local hub's layout. It runs in
offline mode with its upstream pointed at a closed loopback port, so nothing
ever leaves the machine; it writes its logs in its working folder, which is
``$VVSHUB_HOME/serve``.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from vvshub.constants import vvshub_home
from vvshub.errors import HubError
from vvshub.hub._local import hub_root

__all__ = ["HubServer", "serve"]

logger = logging.getLogger(__name__)


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class HubServer:
    """A running ``olah`` process serving the local hub; stop it with :meth:`stop`.

    Attributes:
        url: the endpoint to put in ``HF_ENDPOINT``.
        port: its TCP port on 127.0.0.1.
        process: the server process.
    """

    url: str
    port: int
    process: subprocess.Popen
    workdir: Path

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout`` seconds)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> HubServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _olah_command() -> list[str]:
    exe = Path(sys.executable).with_name("olah-cli")
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("olah-cli")
    if found:
        return [found]
    raise HubError(
        "`vvshub hub serve` needs olah: pip install 'vvshub[serve]' (or pip install olah)"
    )


def serve(
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    root: Path | None = None,
    wait: float = 60.0,
) -> HubServer:
    """Start olah on ``host:port`` serving the local hub; returns once it answers.

    Args:
        port: TCP port; default: a free one.
        host: interface to bind: loopback by default (a lab can choose to expose its hub).
        root: the hub folder (default ``$VVSHUB_HOME/hub``).
        wait: seconds to wait for the server to answer.

    Raises:
        HubError: olah is missing, exited, or did not answer in time.

    Example:
        >>> with serve() as server:  # doctest: +SKIP
        ...     print(server.url)  # HF_ENDPOINT=... for huggingface_hub and timm
        http://127.0.0.1:43125
    """
    root = Path(root) if root is not None else hub_root()
    (root / "models").mkdir(parents=True, exist_ok=True)
    port = port or _free_port(host)
    workdir = vvshub_home() / "serve" / str(port)
    (workdir / "repos").mkdir(parents=True, exist_ok=True)
    closed = _free_port("127.0.0.1")  # nothing listens there: olah's upstream is unreachable
    config = workdir / "configs.toml"
    config.write_text(
        "[basic]\n"
        f"host = {_toml_str(host)}\n"
        f"port = {int(port)}\n"
        f"repos-path = {_toml_str(str(workdir / 'repos'))}\n"
        f"mirrors-path = [{_toml_str(str(root))}]\n"
        'hf-scheme = "http"\n'
        f'hf-netloc = "127.0.0.1:{closed}"\n'
        f'hf-lfs-netloc = "127.0.0.1:{closed}"\n'
        'mirror-scheme = "http"\n'
        f"mirror-netloc = {_toml_str(f'{host}:{port}')}\n"
        f"mirror-lfs-netloc = {_toml_str(f'{host}:{port}')}\n"
        "\n[accessibility]\n"
        "offline = true\n"
    )
    log = open(workdir / "olah.log", "ab")  # noqa: SIM115 (the child process owns it)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    process = subprocess.Popen(
        [*_olah_command(), "-c", str(config)],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    log.close()
    url = f"http://{host}:{port}"
    server = HubServer(url=url, port=port, process=process, workdir=workdir)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (workdir / "olah.log").read_text(errors="replace").strip().splitlines()[-3:]
            raise HubError(f"olah exited with code {process.returncode}: {' | '.join(tail)}")
        try:
            with urllib.request.urlopen(f"{url}/api/models/vvshub/_probe_", timeout=2):
                pass
            return server
        except urllib.error.HTTPError:  # any HTTP answer means the server is up
            return server
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    server.stop()
    raise HubError(f"olah did not answer on {url} within {wait:.0f} s; see {workdir}/olah.log")
