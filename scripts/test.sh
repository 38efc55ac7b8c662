#!/usr/bin/env bash
# The whole test suite, the one command the README gives: installs the real servers
# the integration tests start (PostgreSQL + pgaudit, MariaDB), then runs rustfmt,
# clippy and every test of the workspace with missing servers counted as failures.
#
# CI runs it as root on a fresh Debian 12 (.ci/run). A developer can run it too:
# as root it installs what is missing; otherwise it says what to install.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }
die() {
    printf '\nscripts/test.sh: FAILED: %s\n' "$*" >&2
    exit 1
}

# --- Debian packages -------------------------------------------------------

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

apt_updated=no
apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        die "missing Debian packages: $*; install them (sudo apt-get install $*) or run this script as root"
    fi
    local logf
    logf=$(mktemp)
    # Wait for another apt (an unattended upgrade, a parallel install) rather than
    # fail on its lock.
    local apt=(apt-get -q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
    if [ "$apt_updated" = no ]; then
        "${apt[@]}" update >"$logf" 2>&1 || { cat "$logf" >&2; die "apt-get update failed"; }
        apt_updated=yes
    fi
    echo "installing: $*"
    # Recommends are not needed by the tests and double the download. The package
    # scripts cannot start the distribution's own clusters without an init system,
    # and the tests never use them: they start their own servers.
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "$@" \
        >>"$logf" 2>&1 || { tail -n 50 "$logf" >&2; die "apt-get install $* failed"; }
    rm -f "$logf"
}

# The newest PostgreSQL major whose server is installed, as the tests choose it.
pg_major() {
    local d major=""
    for d in /usr/lib/postgresql/*/bin/postgres; do
        [ -x "$d" ] || continue
        d=${d#/usr/lib/postgresql/}
        d=${d%%/*}
        if [ -z "$major" ] || [ "$d" -gt "$major" ]; then major=$d; fi
    done
    echo "$major"
}

ensure_packages() {
    if ! command -v dpkg-query >/dev/null; then
        echo "not a Debian system: install PostgreSQL with pgaudit and MariaDB yourself" >&2
        return
    fi
    local missing=() p
    # rsyslog: the MariaDB test files its error log through a real rsyslogd.
    # logrotate: the daemon's copytruncate test; pgbouncer: a pooler in front of the
    # test PostgreSQL.
    # python3-venv: the venv of the Python test services (aiosmtpd, moto) below.
    # nftables: the host response executor's tests (in a network namespace).
    # chromium, nodejs: the dashboard's browser tests (Playwright drives Debian's
    # Chromium; no browser is ever downloaded). Debian's nodejs 18 is enough
    # (tests/browser pins a playwright-core that supports it); fonts-ipafont-gothic
    # draws the Japanese pages (3.5 MB). nats-server: JetStream, the partitioned
    # stream of keibi run --worker (tests/nats_source.rs).
    for p in postgresql mariadb-server zstd bzip2 rsyslog logrotate pgbouncer python3-venv nftables chromium nodejs fonts-ipafont-gothic nats-server; do
        installed "$p" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
    # Debian's npm is a package of its own; NodeSource's nodejs carries one.
    command -v npm >/dev/null || apt_install npm

    local major
    major=$(pg_major)
    [ -n "$major" ] || die "no PostgreSQL server under /usr/lib/postgresql after installing postgresql"
    installed "postgresql-$major-pgaudit" || apt_install "postgresql-$major-pgaudit"
    echo "PostgreSQL $major with pgaudit, $(mariadbd --version 2>/dev/null | sed 's/^.*Ver //; s/ for .*//' || echo 'MariaDB ?')"
}

step "test servers (Debian packages)"
ensure_packages

# --- Python test services ----------------------------------------------------

# The notification tests talk to real receivers from PyPI: aiosmtpd (an SMTP server)
# and moto (AWS, for SNS). One venv under target/, made once and reused while these
# pins are unchanged; the tests find it through KEIBI_TEST_VENV.
PY_SERVICES=(aiosmtpd==1.4.6 'moto[server]==5.2.5')
ensure_venv() {
    local venv=$PWD/target/test-venv stamp
    stamp="${PY_SERVICES[*]}"
    if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.keibi-pins" 2>/dev/null)" != "$stamp" ]; then
        command -v python3 >/dev/null || die "python3 is missing (the test services need it)"
        local logf
        logf=$(mktemp)
        echo "installing into $venv: ${PY_SERVICES[*]}"
        rm -rf "$venv"
        # Debian's python3 (python3-venv), not another one first on PATH.
        local py=python3
        [ -x /usr/bin/python3 ] && py=/usr/bin/python3
        "$py" -m venv "$venv" >"$logf" 2>&1 || { cat "$logf" >&2; die "cannot make the venv $venv"; }
        "$venv/bin/python" -m pip install -q "${PY_SERVICES[@]}" >>"$logf" 2>&1 ||
            { tail -n 50 "$logf" >&2; die "pip install ${PY_SERVICES[*]} failed"; }
        rm -f "$logf"
        echo "$stamp" >"$venv/.keibi-pins"
    fi
    "$venv/bin/python" -c 'import aiosmtpd, moto' || die "the venv $venv cannot import aiosmtpd and moto"
    [ -x "$venv/bin/moto_server" ] || die "$venv/bin/moto_server is missing"
    export KEIBI_TEST_VENV=$venv
    echo "aiosmtpd $("$venv/bin/python" -c 'import aiosmtpd; print(aiosmtpd.__version__)'), moto $("$venv/bin/python" -c 'import moto; print(moto.__version__)') in $venv"
}

step "test services (Python venv)"
ensure_venv

# --- Browser test tools (npm) ---------------------------------------------------

# The dashboard's browser tests run node scripts in tests/browser with the pinned
# playwright-core and axe-core of its package-lock.json. `npm ci` runs once and again
# only when the lock file changes (a stamp of its hash, like the venv's pins);
# PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD keeps npm from fetching a browser: the tests
# drive /usr/bin/chromium. The tests find both through KEIBI_BROWSER_TESTS and
# KEIBI_CHROMIUM.
ensure_browser_tools() {
    local dir=$PWD/tests/browser stamp
    command -v node >/dev/null || die "node is missing (apt-get install nodejs)"
    command -v npm >/dev/null || die "npm is missing (apt-get install npm)"
    [ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing (apt-get install chromium)"
    stamp=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [ ! -d "$dir/node_modules/playwright-core" ] || [ "$(cat "$dir/node_modules/.keibi-lock" 2>/dev/null)" != "$stamp" ]; then
        local logf
        logf=$(mktemp)
        echo "npm ci in $dir"
        (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >"$logf" 2>&1) ||
            { tail -n 50 "$logf" >&2; die "npm ci in tests/browser failed"; }
        rm -f "$logf"
        echo "$stamp" >"$dir/node_modules/.keibi-lock"
    fi
    export KEIBI_BROWSER_TESTS=$dir KEIBI_CHROMIUM=/usr/bin/chromium
    echo "node $(node --version), $(/usr/bin/chromium --version 2>/dev/null || echo 'Chromium ?'), playwright-core $(node -p "require('$dir/node_modules/playwright-core/package.json').version")"
}

step "browser test tools (Chromium, npm)"
ensure_browser_tools

command -v cargo >/dev/null || die "cargo is not installed (https://rustup.rs)"
cargo fmt --version >/dev/null 2>&1 || die "rustfmt is missing (rustup component add rustfmt)"
cargo clippy --version >/dev/null 2>&1 || die "clippy is missing (rustup component add clippy)"

# The real-server tests skip when a server is missing, which is right on a laptop
# and wrong here: a skipped test would pass CI without testing anything.
export KEIBI_REQUIRE_SERVERS=1

step "cargo fmt --all -- --check"
cargo fmt --all -- --check || die "code is not formatted: run cargo fmt --all"

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings || die "clippy found problems"

if cargo nextest --version >/dev/null 2>&1; then
    step "cargo nextest run --workspace"
    cargo nextest run --workspace --no-fail-fast || die "tests failed (see the summary above)"
    # nextest does not run doc tests.
    step "cargo test --workspace --doc"
    cargo test --workspace --doc || die "doc tests failed"
else
    step "cargo test --workspace"
    cargo test --workspace --no-fail-fast || die "tests failed"
fi

printf '\nscripts/test.sh: all passed: fmt, clippy, unit, doc and real-server tests\n'
