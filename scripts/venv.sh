# Sourced by scripts/serve and scripts/test: make .venv with python3 and install the project into it,
# again only when pyproject.toml has changed since the last install.
ensure_venv() {
    local extras="$1"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    local stamp
    stamp=".venv/.installed-${extras:-base}-$(python3 -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest()[:16])')"
    if [ ! -f "$stamp" ]; then
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --editable ".${extras:+[$extras]}"
        touch "$stamp"
    fi
}
