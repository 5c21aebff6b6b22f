"""The production nginx (deploy/k8s/nginx.conf, via scripts/proxy.py) in front of a test's gunicorn, unprivileged."""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import requests

from tests.support.models import ROOT
from tests.support.servers import Server, free_port


def proxy_script() -> ModuleType:
    """scripts/proxy.py, which renders the production nginx.conf with a test's addresses."""
    spec = importlib.util.spec_from_file_location("strategy_proxy", ROOT / "scripts" / "proxy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def nginx_in_front(server: Server) -> Iterator[str]:
    """nginx on a free loopback port passing to `server`; yields its URL, stops nginx and removes its folder after."""
    folder = Path(tempfile.mkdtemp(prefix="strategy-test-nginx-"))  # see start_nginx: not under pytest's tmp_path
    listen = f"127.0.0.1:{free_port()}"
    log = (folder / "nginx.log").open("wb")
    process = proxy_script().start_nginx(listen, server.url.removeprefix("http://"), folder,
                                         stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{listen}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (folder / "nginx.log").read_text()
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + "/readyz", timeout=5).status_code == 200:
                    break
            assert time.monotonic() < deadline, "nginx did not pass /readyz through"
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(30)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
