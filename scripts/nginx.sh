# Sourced by scripts/serve and scripts/test: install Debian's nginx when it is missing, as root or with
# passwordless sudo. Returns 1 when nginx is not there and cannot be installed. The service never uses the
# system's nginx service: it runs its own, unprivileged, with deploy/k8s/nginx.conf (scripts/proxy.py).
ensure_nginx() {
    if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then return 0; fi
    local apt_get
    if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; elif sudo -n true 2>/dev/null; then apt_get="sudo -n apt-get"; else return 1; fi
    echo "installing Debian's nginx (the buffering reverse proxy in front of gunicorn)..." >&2
    $apt_get update -qq && DEBIAN_FRONTEND=noninteractive $apt_get install -y -qq nginx >/dev/null || return 1
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]
}
