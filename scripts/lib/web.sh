# The web front end (web/, docs/web.md): its packages from the npm registry as the lockfile
# pins them, its build into web/dist (what `boxoffice serve` serves at / and /admin), and
# Debian's Chromium for its browser tests.

# Installs web/'s packages when missing or older than the lockfile, then builds web/dist.
# Needs Node.js 20+ and npm.
web_build() {
    command -v npm >/dev/null 2>&1 || {
        echo "the web app needs Node.js (20 or later) and npm: install them (apt-get install nodejs npm, or from nodejs.org)" >&2
        return 1
    }
    if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
        echo "installing the web app's packages (npm ci)" >&2
        npm --prefix web ci --no-audit --no-fund --loglevel=error >&2
    fi
    npm --prefix web run --silent build >/dev/null
}

# Debian's Chromium for the browser tests: installed with apt-get when missing and we are
# root. Sets CHROMIUM.
web_chromium() {
    CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
    if [ -z "$CHROMIUM" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing Debian's chromium (the web app's browser tests) with apt-get" >&2
        { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2 ||
            { DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2; }; } || true
        CHROMIUM=$(command -v chromium || true)
    fi
    [ -n "$CHROMIUM" ] || {
        echo "the browser tests need Chromium: apt-get install chromium (as root), or set CHROMIUM to a Chromium or Chrome binary" >&2
        return 1
    }
    export CHROMIUM
}
