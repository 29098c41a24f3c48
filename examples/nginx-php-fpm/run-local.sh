#!/bin/sh
# Run the nginx + php-fpm example without Docker, with bin/steward-init from
# this repository as PID 1, much as `docker run` would.
#
#     sudo ./run-local.sh                 # nginx on port 8080
#     sudo NGINX_LISTEN=127.0.0.1:9000 ./run-local.sh
#     sudo ./run-local.sh sh              # a shell in the same root instead of steward-init
#
# Needs root, util-linux (unshare, mount) and Debian's nginx and php-fpm.
# Run `npm run build` in the repository first.
#
# How it works: unshare(1) starts this script again as PID 1 of a new PID
# namespace, in a new mount namespace. There it builds a throwaway root
# filesystem: an overlay whose lower layers are the example's files (laid out
# as the Dockerfile copies them) over the host's /, and whose upper layer is a
# tmpfs. It mounts a fresh /proc, /run and /tmp in it, chroots into it and execs
# steward-init, which therefore finds /etc/services.d, /etc/cont-init.d, ... at
# the paths the s6-overlay layout uses, and can write to /etc, /run or /command
# without touching the host. Everything goes away when PID 1 exits.
#
# Stop it with Ctrl-C, or with `kill -TERM <host pid>` using the host PID that
# is printed at startup (signals sent to the unshare process itself are
# ignored by unshare).
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
repo=$(CDPATH='' cd -- "$here/../.." && pwd -P)
me=run-local.sh

die() {
    echo "$me: $*" >&2
    exit 1
}

if [ "${1:-}" != --in-namespace ]; then
    # ----- On the host --------------------------------------------------
    [ "$(id -u)" -eq 0 ] || die "must run as root (it creates PID and mount namespaces)"
    for tool in unshare mount chroot stat; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
    done
    [ -x /usr/sbin/nginx ] || die "nginx not installed (apt-get install nginx)"
    ls /usr/sbin/php-fpm* >/dev/null 2>&1 || die "php-fpm not installed (apt-get install php-fpm)"
    case "$repo" in
        /run | /run/*) die "the repository must not live under /run" ;;
    esac
    command -v node >/dev/null 2>&1 || die "node not found"
    if [ $# -eq 0 ] && [ ! -d "$repo/dist" ]; then
        echo "$me: warning: $repo/dist is missing; run 'npm run build' first" >&2
    fi

    # Give PID 1 a container-like environment: drop everything from the
    # calling shell except what the example or Steward use.
    node_dir=$(dirname -- "$(command -v node)")
    for name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p'); do
        case "$name" in
            TERM | NGINX_LISTEN | S6_* | STEWARD_*) ;;
            *) unset "$name" 2>/dev/null || true ;;
        esac
    done
    export PATH="$node_dir:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    export HOME=/root
    export NGINX_LISTEN="${NGINX_LISTEN:-8080}"

    # --kill-child: if unshare dies, PID 1 (and so the whole namespace) dies too.
    exec unshare --pid --fork --kill-child --mount -- /bin/sh "$here/run-local.sh" --in-namespace "$@"
fi

# ----- PID 1 of the new PID namespace, in a private mount namespace ----------
shift
if [ $# -eq 0 ]; then
    set -- "$repo/bin/steward-init"
fi

# /proc is still the host's here, so its NSpid line for this shell starts with
# our PID as the host sees it. (Read by the shell itself: /proc/self must not be
# a child process.)
host_pid=
while read -r key value rest; do
    if [ "$key" = NSpid: ]; then
        host_pid=$value
        break
    fi
done </proc/self/status

# Nothing mounted from now on propagates back to the host.
mount --make-rprivate /

# Scratch space for the new root, on a tmpfs over /run (in this namespace only).
stage=/run
mount -t tmpfs -o mode=0755 steward-example "$stage"
mkdir "$stage/layer" "$stage/upper" "$stage/work" "$stage/root"

# The example's files, where the Dockerfile puts them.
cp -R "$here/etc" "$stage/layer/etc"
mkdir -p "$stage/layer/var/www"
cp -R "$here/public" "$stage/layer/var/www/steward-example"
chmod -R u+rwX,go+rX,go-w "$stage/layer"

root=$stage/root
mount -t overlay steward-example \
    -o "lowerdir=$stage/layer:/,upperdir=$stage/upper,workdir=$stage/work" "$root"

# The overlay only shows the host's root filesystem. If the repository (with
# its node_modules) or node live on another mount, bind that mount in too.
for path in "$repo" "$(readlink -f "$(command -v node)")"; do
    mountpoint=$(stat -c %m -- "$path")
    if [ "$mountpoint" != / ]; then
        mkdir -p "$root$mountpoint"
        mount --rbind "$mountpoint" "$root$mountpoint"
    fi
done

mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$root/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
# A repository under /tmp would be hidden by that fresh /tmp: put it back.
case "$repo" in
    /tmp/*)
        mkdir -p "$root$repo"
        mount --rbind "$repo" "$root$repo"
        ;;
esac

echo "$me: starting $1 as PID 1 (host PID $host_pid); stop with Ctrl-C or: kill -TERM $host_pid" >&2
exec chroot "$root" "$@"
