"""nginx in front of gunicorn on one machine, unprivileged: what `scripts/serve` runs, and what the tests start.

    python scripts/proxy.py [gunicorn arguments...]

nginx listens on STRATEGY_LISTEN (0.0.0.0:8000) with deploy/k8s/nginx.conf, the production file, its two addresses
set; gunicorn listens on STRATEGY_BIND (127.0.0.1:8001), reachable only from this machine. SIGTERM or SIGINT stops
both gracefully, SIGHUP reloads gunicorn's models; when either process exits, the other is stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "k8s" / "nginx.conf"
# the addresses the production file names: the pod's port, and gunicorn beside nginx in the pod
LISTEN, UPSTREAM = "listen 8000;", "server 127.0.0.1:8001;"


def nginx_binary() -> str | None:
    """Debian puts nginx in /usr/sbin, which an unprivileged user's PATH often leaves out."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def render(listen: str, upstream: str) -> str:
    """deploy/k8s/nginx.conf listening on `listen` (host:port) and passing to gunicorn on `upstream` (host:port)."""
    text = CONFIG.read_text(encoding="utf-8")
    for old, new in ((LISTEN, f"listen {listen};"), (UPSTREAM, f"server {upstream};")):
        if text.count(old) != 1:
            raise SystemExit(f"{CONFIG}: expected one {old!r}")
        text = text.replace(old, new)
    return text


def start_nginx(listen: str, upstream: str, folder: Path, **popen: object) -> subprocess.Popen[bytes]:
    """nginx in the foreground with `folder` (which must exist) for its config, pid and temporary files.

    Started as root, nginx runs its workers as `nobody`, which must reach the folder: make it with
    tempfile.mkdtemp() (in the system's temporary folder, whose parents anyone may traverse).
    """
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is not installed (Debian: apt-get install nginx)")
    if os.geteuid() == 0:
        folder.chmod(0o755)  # nginx makes its temporary folders in it and gives them to its workers' user
    config = folder / "nginx.conf"
    config.write_text(render(listen, upstream), encoding="utf-8")
    return subprocess.Popen([binary, "-p", f"{folder}/", "-c", str(config), "-e", "stderr"], **popen)  # type: ignore[call-overload]


def main(gunicorn_arguments: list[str]) -> int:
    listen = os.environ.get("STRATEGY_LISTEN", "0.0.0.0:8000")
    upstream = os.environ.setdefault("STRATEGY_BIND", "127.0.0.1:8001")
    folder = Path(tempfile.mkdtemp(prefix="strategy-nginx-"))
    gunicorn = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "service.wsgi:app",
                                 *gunicorn_arguments], cwd=ROOT)
    nginx = start_nginx(listen, upstream, folder)
    print(f"serving on http://{listen} (nginx, pid {nginx.pid}) in front of gunicorn on {upstream} "
          f"(pid {gunicorn.pid}); kill -HUP {gunicorn.pid} reloads the models", flush=True)

    def stop(signum: int, frame: object) -> None:
        gunicorn.send_signal(signal.SIGTERM)
        nginx.send_signal(signal.SIGQUIT)  # nginx's graceful stop

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, lambda signum, frame: gunicorn.send_signal(signal.SIGHUP))
    try:
        while True:
            pid, status = os.wait()
            if pid in (gunicorn.pid, nginx.pid):
                break
        stop(signal.SIGTERM, None)
        for process in (gunicorn, nginx):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
