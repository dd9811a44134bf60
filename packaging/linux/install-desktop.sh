#!/bin/sh
# Add ModelDesk to the current user's application menu, with its icon and the file types it
# opens (CSV, TSV, Parquet, Excel), following the freedesktop.org specifications.
#
#   install-desktop.sh [--exec PATH] [--uninstall]
#
# --exec PATH   the modeldesk executable the menu entry starts. Default: the bundle's
#               executable when this script sits in an unpacked bundle (modeldesk/linux/),
#               else `modeldesk` found on PATH (pipx, pip --user).
# --uninstall   remove what an earlier run installed.
#
# Files go under ${XDG_DATA_HOME:-~/.local/share}: applications/, icons/hicolor/, mime/packages/
# and metainfo/. The desktop, MIME and icon caches are refreshed when their tools are installed
# (update-desktop-database, update-mime-database, gtk-update-icon-cache); without them the
# desktop picks the files up at the next log-in. Nothing here needs root.
set -eu

APP_ID=io.github.modeldesk.ModelDesk
SIZES="16 32 48 64 128 256"
here=$(cd "$(dirname "$0")" && pwd)
data_home=${XDG_DATA_HOME:-"$HOME/.local/share"}

exec_path=""
uninstall=0
while [ $# -gt 0 ]; do
    case "$1" in
        --exec) [ $# -ge 2 ] || { echo "error: --exec needs a path" >&2; exit 2; }
                exec_path=$2; shift 2 ;;
        --exec=*) exec_path=${1#--exec=}; shift ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
                   exit 0 ;;
        *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

refresh() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$data_home/applications" || true
    fi
    if command -v update-mime-database >/dev/null 2>&1; then
        update-mime-database "$data_home/mime" || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$data_home/icons/hicolor/index.theme" ]; then
        gtk-update-icon-cache -q -t -f "$data_home/icons/hicolor" || true
    fi
}

if [ "$uninstall" -eq 1 ]; then
    rm -f "$data_home/applications/$APP_ID.desktop" \
          "$data_home/metainfo/$APP_ID.metainfo.xml" \
          "$data_home/mime/packages/$APP_ID.xml" \
          "$data_home/icons/hicolor/scalable/apps/$APP_ID.svg"
    for size in $SIZES; do
        rm -f "$data_home/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
    done
    refresh
    echo "ModelDesk removed from the application menu."
    exit 0
fi

# The executable: given, the bundle's own, or the one on PATH.
if [ -z "$exec_path" ]; then
    if [ -x "$here/../modeldesk" ] && [ -f "$here/../modeldesk" ]; then
        exec_path="$here/../modeldesk"
    elif command -v modeldesk >/dev/null 2>&1; then
        exec_path=$(command -v modeldesk)
    else
        echo "error: no modeldesk executable found; install ModelDesk first" >&2
        echo "       or name it: $0 --exec /path/to/modeldesk" >&2
        exit 1
    fi
fi
if [ ! -x "$exec_path" ] || [ -d "$exec_path" ]; then
    echo "error: $exec_path is not an executable file" >&2
    exit 1
fi
exec_path=$(cd "$(dirname "$exec_path")" && pwd)/$(basename "$exec_path")

# The icons: in a bundle under _internal/, in a clone under app/resources/.
icons=""
for candidate in "$here/../_internal/app/resources/icons" "$here/../../app/resources/icons"; do
    if [ -f "$candidate/modeldesk.svg" ]; then
        icons=$(cd "$candidate" && pwd)
        break
    fi
done
if [ -z "$icons" ]; then
    echo "error: the ModelDesk icons were not found next to $here" >&2
    exit 1
fi

# Exec= quoting (Desktop Entry Specification): a path with reserved characters is put in
# double quotes, with ", `, $ and \ escaped by a backslash; "%" is doubled in any case.
quoted=$(printf '%s' "$exec_path" | sed -e 's/%/%%/g')
case "$quoted" in
    *[!A-Za-z0-9_./+@:,-]*)
        quoted=$(printf '%s' "$quoted" | sed -e 's/[\\"`$]/\\&/g')
        quoted="\"$quoted\"" ;;
esac
# The desktop file is parsed once more for escape sequences: each backslash doubles again.
quoted=$(printf '%s' "$quoted" | sed -e 's/\\/\\\\/g')
tryexec=$(printf '%s' "$exec_path" | sed -e 's/\\/\\\\/g')

mkdir -p "$data_home/applications" "$data_home/metainfo" "$data_home/mime/packages" \
         "$data_home/icons/hicolor/scalable/apps"

tmp="$data_home/applications/.$APP_ID.desktop.tmp"
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
        Exec=*) printf 'Exec=%s %%F\n' "$quoted" ;;
        TryExec=*) printf 'TryExec=%s\n' "$tryexec" ;;
        *) printf '%s\n' "$line" ;;
    esac
done <"$here/$APP_ID.desktop" >"$tmp"
mv -f "$tmp" "$data_home/applications/$APP_ID.desktop"

cp -f "$here/$APP_ID.metainfo.xml" "$data_home/metainfo/$APP_ID.metainfo.xml"
cp -f "$here/$APP_ID.mime.xml" "$data_home/mime/packages/$APP_ID.xml"
cp -f "$icons/modeldesk.svg" "$data_home/icons/hicolor/scalable/apps/$APP_ID.svg"
for size in $SIZES; do
    mkdir -p "$data_home/icons/hicolor/${size}x${size}/apps"
    cp -f "$icons/modeldesk-$size.png" "$data_home/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
done
refresh

echo "ModelDesk added to the application menu: $data_home/applications/$APP_ID.desktop"
echo "It starts $exec_path and opens CSV, TSV, Parquet and Excel files."
