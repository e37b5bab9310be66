#!/bin/bash
# kiosk installer for Raspberry Pi OS 64-bit (Bookworm) / Debian 12.
#
#   sudo firmware_config/install.sh                 install or update (idempotent)
#   sudo firmware_config/install.sh --uninstall     remove units, rules, venv (keep data+config)
#   sudo firmware_config/install.sh --uninstall --purge   ... and data, config, user
#   firmware_config/install.sh --root DIR           stage into DIR; commands are recorded
#                                                   in DIR/var/log/kiosk-install.log, not run
#   firmware_config/install.sh --dry-run            print what would change, change nothing
#
# Options: --no-packages (skip apt and the venv/pip step), --with-display (enable the
# now-serving TV unit), --with-broker (local mosquitto bridged to HQ), --no-start.
# Running it twice changes nothing the second time. See docs/install.md.

set -euo pipefail
umask 022

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FW="$SRC/firmware_config"

ROOT=""
DRY=0
UNINSTALL=0
PURGE=0
PACKAGES=1
WITH_DISPLAY=0
WITH_BROKER=0
START=1

usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --root) ROOT=${2:?--root needs a directory}; shift ;;
        --root=*) ROOT=${1#--root=} ;;
        --dry-run) DRY=1 ;;
        --uninstall) UNINSTALL=1 ;;
        --purge) PURGE=1 ;;
        --no-packages) PACKAGES=0 ;;
        --with-display) WITH_DISPLAY=1 ;;
        --with-broker) WITH_BROKER=1 ;;
        --no-start) START=0 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

if [ "$PURGE" = 1 ] && [ "$UNINSTALL" = 0 ]; then
    echo "install.sh: --purge only goes with --uninstall" >&2; exit 2
fi
if [ -n "$ROOT" ]; then
    [ "$DRY" = 1 ] || mkdir -p "$ROOT"
    ROOT=$(cd "$ROOT" 2>/dev/null && pwd || echo "$ROOT")
    [ "$ROOT" = "/" ] && ROOT=""
fi
STAGED=0; [ -n "$ROOT" ] && STAGED=1
if [ "$STAGED" = 0 ] && [ "$DRY" = 0 ] && [ "$(id -u)" != 0 ]; then
    echo "install.sh: run as root (sudo), or use --root DIR / --dry-run" >&2; exit 1
fi

# ----------------------------------------------------------------------------- layout
KIOSK_USER=kiosk
KIOSK_GROUPS="gpio dialout lp video render input audio"
OPT=/opt/kiosk
VENV=$OPT/venv
DATA=/var/lib/kiosk
ETC=/etc/kiosk
UNITDIR=/etc/systemd/system
UNITS="kiosk.service kiosk-display.service kiosk-backup.service kiosk-backup.timer"
ENABLE="kiosk.service kiosk-backup.timer"
[ "$WITH_DISPLAY" = 1 ] && ENABLE="$ENABLE kiosk-display.service"
JOURNALD=/etc/systemd/journald.conf.d/kiosk.conf
UDEV=/etc/udev/rules.d/99-kiosk.rules
BRIDGE=/etc/mosquitto/conf.d/kiosk-bridge.conf
MARK_BEGIN="# >>> kiosk: managed by kiosk install.sh; edit outside these markers"
MARK_END="# <<< kiosk"
APT_PACKAGES="python3 python3-venv python3-pip ca-certificates systemd udev \
libmtdev1 libgl1 libegl1 libgles2 libgbm1 libdrm2 libgl1-mesa-dri libegl-mesa0 \
fonts-wqy-zenhei espeak-ng alsa-utils sqlite3"
APT_OPTIONAL="python3-lgpio python3-rpi-lgpio"   # Raspberry Pi OS repositories only

WARN_HINT=""
CHANGED=0          # files written, modes fixed, links made in this run
COMMANDS=()        # commands recorded instead of run (--root / --dry-run)
LOG=""

say() { echo "kiosk-install: $*"; }
record() { COMMANDS+=("$*"); [ "$DRY" = 1 ] && say "would run: $*"; return 0; }
note_change() { CHANGED=$((CHANGED + 1)); say "$*"; }

# Run a command that changes the running system (apt, useradd, systemctl, udevadm).
# Staged or dry: recorded, not run.
sys_run() {
    if [ "$STAGED" = 1 ] || [ "$DRY" = 1 ]; then record "$@"; return 0; fi
    say "run: $*"
    "$@"
}

# Like sys_run, but a failure is reported and the install goes on (udev not running in a
# container, a kiosk that does not start because its config needs editing...).
sys_try() {
    if [ "$STAGED" = 1 ] || [ "$DRY" = 1 ]; then record "$@"; return 0; fi
    say "run: $*"
    "$@" || say "WARNING: '$*' failed (exit $?)${WARN_HINT:+; $WARN_HINT}"
    return 0
}

systemd_running() { [ "$STAGED" = 0 ] && [ -d /run/systemd/system ]; }
user_exists() { [ "$STAGED" = 0 ] && getent passwd "$KIOSK_USER" >/dev/null 2>&1; }

# chown only when the owner is real here (not in a staging root)
set_owner() {  # path owner:group
    local path=$1 owner=$2
    if [ "$STAGED" = 1 ] || [ "$DRY" = 1 ]; then
        record "chown $owner ${path#"$ROOT"}"
        return 0
    fi
    local user=${owner%%:*} group=${owner#*:}
    getent passwd "$user" >/dev/null 2>&1 || return 0
    if [ "$(stat -c %U:%G "$path")" != "$user:$group" ]; then
        chown "$owner" "$path"; note_change "owner $owner ${path}"
    fi
}

ensure_dir() {  # path mode [owner]
    local path=$ROOT$1 mode=$2
    if [ ! -d "$path" ]; then
        if [ "$DRY" = 1 ]; then say "would create $1/ ($mode)"; CHANGED=$((CHANGED + 1)); return 0; fi
        mkdir -p "$path"; chmod "$mode" "$path"; note_change "created $1/ ($mode)"
    elif [ "$(stat -c %a "$path")" != "${mode#0}" ]; then
        if [ "$DRY" = 1 ]; then say "would chmod $mode $1"; CHANGED=$((CHANGED + 1)); return 0; fi
        chmod "$mode" "$path"; note_change "mode $mode $1"
    fi
    [ -n "${3:-}" ] && set_owner "$path" "$3"
    return 0
}

# Install a file when its content or mode differ (atomic: temp file then rename).
install_file() {  # src dest mode [owner]
    local src=$1 dest=$ROOT$2 mode=$3
    if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
        if [ "$(stat -c %a "$dest")" != "${mode#0}" ]; then
            if [ "$DRY" = 1 ]; then say "would chmod $mode $2"; CHANGED=$((CHANGED + 1)); else
                chmod "$mode" "$dest"; note_change "mode $mode $2"; fi
        fi
    else
        if [ "$DRY" = 1 ]; then say "would install $2 ($mode)"; CHANGED=$((CHANGED + 1)); return 0; fi
        mkdir -p "$(dirname "$dest")"
        cp "$src" "$dest.kiosk-new"; chmod "$mode" "$dest.kiosk-new"
        mv -f "$dest.kiosk-new" "$dest"
        note_change "installed $2 ($mode)"
    fi
    [ -n "${4:-}" ] && set_owner "$dest" "$4"
    return 0
}

# Install only when absent: a site's configuration is never overwritten.
install_if_absent() {  # src dest mode [owner]
    if [ -e "$ROOT$2" ]; then
        say "kept existing $2"
        [ -n "${4:-}" ] && set_owner "$ROOT$2" "$4"
        return 0
    fi
    install_file "$@"
}

remove_path() {  # path (file, link or tree)
    local path=$ROOT$1
    if [ -e "$path" ] || [ -L "$path" ]; then
        if [ "$DRY" = 1 ]; then say "would remove $1"; CHANGED=$((CHANGED + 1)); return 0; fi
        rm -rf "$path"; note_change "removed $1"
    fi
    return 0
}

# Replace the block between the markers in FILE with BLOCK (append when absent).
# Nothing is written when the block is already there, byte for byte.
set_block() {  # file blockfile
    local file=$1 block=$2 tmp
    tmp=$(mktemp)
    awk -v b="$MARK_BEGIN" -v e="$MARK_END" -v blk="$block" '
        function emit(   line) { while ((getline line < blk) > 0) print line; close(blk) }
        $0 == b { skip = 1; if (!done) { print b; emit(); print e; done = 1 } next }
        skip && $0 == e { skip = 0; next }
        skip { next }
        { print }
        END { if (!done) { print b; emit(); print e } }
    ' "$file" > "$tmp"
    write_if_changed "$tmp" "$file"
}

remove_block() {  # file
    local file=$1 tmp
    [ -f "$file" ] || return 0
    tmp=$(mktemp)
    awk -v b="$MARK_BEGIN" -v e="$MARK_END" '
        $0 == b { skip = 1; next }
        skip && $0 == e { skip = 0; next }
        skip { next }
        { print }
    ' "$file" > "$tmp"
    write_if_changed "$tmp" "$file"
}

write_if_changed() {  # newcontent(tmp, consumed) target
    local tmp=$1 file=$2
    if cmp -s "$tmp" "$file"; then rm -f "$tmp"; return 0; fi
    if [ "$DRY" = 1 ]; then say "would edit ${file#"$ROOT"}"; rm -f "$tmp"; CHANGED=$((CHANGED + 1)); return 0; fi
    local mode; mode=$(stat -c %a "$file")
    cat "$tmp" > "$file.kiosk-new"; rm -f "$tmp"
    chmod "$mode" "$file.kiosk-new"; mv -f "$file.kiosk-new" "$file"
    note_change "edited ${file#"$ROOT"}"
}

# cmdline.txt is one line: no serial console on the UART the devices use, no blanking,
# no cursor or logo on the kiosk screen.
edit_cmdline() {  # file
    local file=$1 tmp
    [ -f "$file" ] || return 0
    if [ ! -e "$file.kiosk-orig" ] && [ "$DRY" = 0 ]; then
        cp -p "$file" "$file.kiosk-orig"; note_change "saved ${file#"$ROOT"}.kiosk-orig"
    fi
    tmp=$(mktemp)
    awk 'NR == 1 {
            n = split($0, t, /[ \t]+/); out = ""
            for (i = 1; i <= n; i++) {
                if (t[i] == "") continue
                if (t[i] ~ /^console=(serial[0-9]|ttyAMA[0-9]|ttyS[0-9])(,|$)/) continue
                have[t[i]] = 1; out = out (out == "" ? "" : " ") t[i]
            }
            split("consoleblank=0 vt.global_cursor_default=0 logo.nologo", add, " ")
            for (i = 1; i <= 3; i++) if (!(add[i] in have)) out = out " " add[i]
            print out; next }
         { print }' "$file" > "$tmp"
    write_if_changed "$tmp" "$file"
}

boot_dir() {
    if [ -f "$ROOT/boot/firmware/config.txt" ]; then echo "$ROOT/boot/firmware"
    elif [ -f "$ROOT/boot/config.txt" ]; then echo "$ROOT/boot"
    fi
}

# systemctl enable, done as symlinks (what `systemctl enable` does for units in
# /etc/systemd/system): works booted, in a chroot and in a staging root alike.
enable_unit() {  # unit
    local unit=$1 target
    target=$(sed -n 's/^WantedBy=//p' "$SRC/systemd/$unit" | head -1)
    [ -n "$target" ] || return 0
    local link=$ROOT$UNITDIR/$target.wants/$unit
    if [ "$(readlink "$link" 2>/dev/null)" = "$UNITDIR/$unit" ]; then return 0; fi
    if [ "$DRY" = 1 ]; then say "would enable $unit ($target)"; CHANGED=$((CHANGED + 1)); return 0; fi
    mkdir -p "$(dirname "$link")"
    ln -sfn "$UNITDIR/$unit" "$link"
    note_change "enabled $unit ($target.wants)"
}

disable_unit() {  # unit
    local d
    for d in "$ROOT$UNITDIR"/*.wants; do
        [ -L "$d/$1" ] && remove_path "${d#"$ROOT"}/$1"
    done
    return 0
}

src_hash() {
    (cd "$SRC" && find pyproject.toml kiosk drivers ui -type f \
        ! -name '*.pyc' ! -path '*/__pycache__/*' ! -path '*.egg-info*' -print0 2>/dev/null \
        | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

finish_log() {
    local mode=install; [ "$UNINSTALL" = 1 ] && mode=uninstall
    if [ "$STAGED" = 1 ] && [ "$DRY" = 0 ]; then
        LOG=$ROOT/var/log/kiosk-install.log
        mkdir -p "$(dirname "$LOG")"
        {
            echo "# kiosk install.sh --root: $mode; files changed in this run: $CHANGED"
            echo "# commands a real install runs (not run in a staging root):"
            local c
            for c in "${COMMANDS[@]}"; do echo "$c"; done
        } > "$LOG"
        say "commands recorded in ${LOG}"
    fi
    say "$mode done: $CHANGED change(s)$([ "$DRY" = 1 ] && echo ' (dry run, nothing written)')"
}

# ----------------------------------------------------------------------------- uninstall
if [ "$UNINSTALL" = 1 ]; then
    if systemd_running; then
        for u in $UNITS; do
            if systemctl is-enabled --quiet "$u" 2>/dev/null || systemctl is-active --quiet "$u" 2>/dev/null; then
                sys_run systemctl disable --now "$u"
            fi
        done
    fi
    for u in $UNITS; do disable_unit "$u"; remove_path "$UNITDIR/$u"; done
    remove_path "$UDEV"
    remove_path "$JOURNALD"
    remove_path "$OPT"
    BOOT=$(boot_dir)
    [ -n "$BOOT" ] && remove_block "$BOOT/config.txt"
    if [ -f "$ROOT$BRIDGE" ] && cmp -s "$FW/mosquitto/bridge.conf" "$ROOT$BRIDGE"; then
        remove_path "$BRIDGE"
    fi
    if [ "$PURGE" = 1 ]; then
        remove_path "$ETC"
        remove_path "$DATA"
        remove_path /var/cache/kiosk
        remove_path /var/cache/kiosk-display
        if [ "$STAGED" = 1 ] || getent passwd "$KIOSK_USER" >/dev/null 2>&1; then
            sys_run userdel "$KIOSK_USER"
        fi
    else
        say "kept $ETC and $DATA (use --purge to remove them and the $KIOSK_USER user)"
    fi
    if systemd_running; then
        sys_run systemctl daemon-reload
        sys_try udevadm control --reload
    fi
    finish_log
    exit 0
fi

# ----------------------------------------------------------------------------- packages
if [ "$PACKAGES" = 1 ]; then
    optional=""
    for p in $APT_OPTIONAL; do
        if [ "$STAGED" = 1 ] || apt-cache show "$p" >/dev/null 2>&1; then optional="$optional $p"; fi
    done
    missing=""
    for p in $APT_PACKAGES $optional; do
        if [ "$STAGED" = 1 ] || ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
            missing="$missing $p"
        fi
    done
    [ "$WITH_BROKER" = 1 ] && missing="$missing mosquitto"
    if [ -n "$missing" ]; then
        sys_run env DEBIAN_FRONTEND=noninteractive apt-get update
        # shellcheck disable=SC2086
        sys_run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
    else
        say "Debian packages already installed"
    fi
fi

# ----------------------------------------------------------------------------- user
if [ "$STAGED" = 1 ] || [ "$DRY" = 1 ]; then
    for g in $KIOSK_GROUPS; do record "groupadd --system $g  # if missing"; done
    record "useradd --system --user-group --home-dir $DATA --no-create-home --shell /usr/sbin/nologin $KIOSK_USER  # if missing"
    record "usermod -a -G ${KIOSK_GROUPS// /,} $KIOSK_USER"
else
    for g in $KIOSK_GROUPS; do
        getent group "$g" >/dev/null || sys_run groupadd --system "$g"
    done
    if ! user_exists; then
        sys_run useradd --system --user-group --home-dir "$DATA" --no-create-home \
            --shell /usr/sbin/nologin --comment "queue-ticket kiosk" "$KIOSK_USER"
    fi
    for g in $KIOSK_GROUPS; do
        id -nG "$KIOSK_USER" | tr ' ' '\n' | grep -qx "$g" || sys_run usermod -a -G "$g" "$KIOSK_USER"
    done
fi

# ----------------------------------------------------------------------------- venv
ensure_dir "$OPT" 0755
if [ "$PACKAGES" = 1 ]; then
    want=$(src_hash)
    have=$(cat "$ROOT$VENV/.kiosk-src-sha256" 2>/dev/null || true)
    if [ ! -x "$ROOT$VENV/bin/python" ]; then
        sys_run python3 -m venv --system-site-packages "$VENV"
        have=""
    fi
    if [ "$want" != "$have" ]; then
        sys_run "$VENV/bin/pip" install --no-cache-dir --disable-pip-version-check "${SRC}[ui]"
        if [ "$STAGED" = 0 ] && [ "$DRY" = 0 ]; then
            echo "$want" > "$VENV/.kiosk-src-sha256"; note_change "installed kiosk into $VENV"
        fi
    else
        say "venv up to date ($VENV)"
    fi
fi
[ -f "$SRC/docs/install.md" ] && install_file "$SRC/docs/install.md" "$OPT/doc/install.md" 0644

# ----------------------------------------------------------------------------- files
ensure_dir "$ETC" 0750 "root:$KIOSK_USER"
install_if_absent "$FW/kiosk.toml" "$ETC/kiosk.toml" 0640 "root:$KIOSK_USER"
install_if_absent "$FW/kiosk.env.example" "$ETC/kiosk.env" 0640 "root:$KIOSK_USER"
ensure_dir "$DATA" 0750 "$KIOSK_USER:$KIOSK_USER"

for u in $UNITS; do install_file "$SRC/systemd/$u" "$UNITDIR/$u" 0644; done
install_file "$SRC/systemd/journald.conf.d/kiosk.conf" "$JOURNALD" 0644
install_file "$FW/99-kiosk.rules" "$UDEV" 0644

if [ "$WITH_BROKER" = 1 ]; then
    install_if_absent "$FW/mosquitto/bridge.conf" "$BRIDGE" 0640 "root:mosquitto"
fi

BOOT=$(boot_dir)
if [ -n "$BOOT" ]; then
    set_block "$BOOT/config.txt" "$FW/config.txt"
    edit_cmdline "$BOOT/cmdline.txt"
else
    say "no /boot/firmware/config.txt: not a Raspberry Pi boot partition, firmware settings skipped"
fi

for u in $ENABLE; do enable_unit "$u"; done

# ----------------------------------------------------------------------------- activate
if systemd_running; then
    if [ "$CHANGED" -gt 0 ]; then
        sys_run systemctl daemon-reload
        sys_try udevadm control --reload
        sys_try udevadm trigger --subsystem-match=tty --subsystem-match=usbmisc --subsystem-match=usb --subsystem-match=gpio
        sys_try systemctl try-restart systemd-journald.service
    fi
    # Bluetooth leaves the PL011 UART (dtoverlay=disable-bt): its UART helper must not run.
    if systemctl list-unit-files hciuart.service >/dev/null 2>&1 \
            && systemctl is-enabled --quiet hciuart.service 2>/dev/null; then
        sys_try systemctl disable hciuart.service
    fi
    sys_try systemctl start kiosk-backup.timer
    if [ "$START" = 1 ]; then
        WARN_HINT="see: journalctl -u kiosk -b; edit /etc/kiosk/kiosk.toml, then systemctl restart kiosk"
        if ! systemctl is-active --quiet kiosk.service; then
            sys_try systemctl start kiosk.service
        elif [ "$CHANGED" -gt 0 ]; then
            sys_try systemctl restart kiosk.service
        fi
        WARN_HINT=""
    fi
else
    if [ "$STAGED" = 1 ] || [ "$DRY" = 1 ]; then
        sys_run systemctl daemon-reload
        sys_run systemctl start kiosk-backup.timer kiosk.service
    else
        say "systemd is not running (chroot or image build): units enabled, not started"
    fi
fi

finish_log
