# PostgreSQL discovery shared by scripts/run and scripts/test. Source it, then call
# `pg_discover DBNAME`; it exports DATABASE_URL for database DBNAME on a server that is up.
#
# Order: an explicit DATABASE_URL; else a server on 127.0.0.1:5432; else a private cluster
# under target/pg (initdb + pg_ctl, port $BOXOFFICE_PG_PORT or 55432), installing
# PostgreSQL with apt first when no initdb exists and we are root.
#
# BOXOFFICE_PG_PRIVATE=1 skips 127.0.0.1:5432 and always uses the private cluster. When a
# server already answers on the private port (another checkout's cluster), it is used.

pg_log() { printf '[pg] %s\n' "$*" >&2; }

pg_bin_dir() {
    local found
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$found" ] && [ -x "$found/initdb" ] && { echo "$found"; return 0; }
    return 1
}

pg_install() {
    if [ "$(id -u)" != 0 ]; then
        pg_log "PostgreSQL is not installed and we are not root: install it (apt-get install postgresql) or set DATABASE_URL"
        return 1
    fi
    pg_log "installing PostgreSQL with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

# Runs a command as the user who owns the private cluster (postgres when we are root,
# because initdb and postgres refuse to run as root).
pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_ready() { # host port
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$1" -p "$2" -t 2 >/dev/null 2>&1
    else
        (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
    fi
}

pg_private_cluster() { # prints the port
    local bin dir port
    bin=$(pg_bin_dir) || { pg_install && bin=$(pg_bin_dir); } || return 1
    port=${BOXOFFICE_PG_PORT:-55432}
    dir=${BOXOFFICE_PG_DIR:-$ROOT/target/pg}
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
        if ! runuser -u postgres -- test -w "$dir"; then
            # A parent directory is closed to the postgres user: use one it can reach.
            dir=${TMPDIR:-/tmp}/boxoffice-pg-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)
            mkdir -p "$dir" && chown postgres: "$dir"
            pg_log "target/ is not reachable by the postgres user; the cluster lives in $dir"
        fi
    fi
    if ! pg_as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 && pg_ready 127.0.0.1 "$port"; then
        # Another checkout's private cluster (or any server) already answers on the port.
        pg_log "a PostgreSQL server already listens on 127.0.0.1:$port; using it"
        echo "$port"
        return 0
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        pg_log "creating a private cluster in $dir/data"
        pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
            pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
            { pg_log "initdb failed; see $dir/initdb.log"; return 1; }
    fi
    if ! pg_as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        pg_log "starting the private cluster on 127.0.0.1:$port"
        pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >&2 ||
            { pg_log "the private cluster did not start; see $dir/server.log"; return 1; }
    fi
    echo "$port"
}

pg_discover() { # dbname
    local db=$1 port
    if [ -n "${DATABASE_URL:-}" ]; then
        pg_log "using DATABASE_URL"
        return 0
    fi
    if [ "${BOXOFFICE_PG_PRIVATE:-0}" != 1 ] && pg_ready 127.0.0.1 5432; then
        pg_log "using the PostgreSQL server on 127.0.0.1:5432"
        export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
        return 0
    fi
    port=$(pg_private_cluster) || return 1
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/$db"
}
