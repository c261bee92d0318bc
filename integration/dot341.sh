#!/usr/bin/env bash
# dot341.sh [DIR]: unpack django-oauth-toolkit 3.4.1 and the Django it runs on
# from Debian sid into DIR (default $CRYPTOFUSE_DOT341_DIR, else
# /var/cache/cryptofuse-dot341), without installing anything, and print the
# folder to put first on PYTHONPATH for /usr/bin/python3 (bookworm's 3.11).
#
# Sid is never added to the machine's apt sources: mixing suites would break
# the system. The script keeps a private apt configuration in DIR/apt (its own
# sources list, for suite sid of the archive the machine's apt already uses;
# its own lists and cache directories; an empty dpkg status file, so apt sees
# no installed package and resolves nothing against the system), runs
# `apt-get update` and `apt-get download` with it, and `dpkg -x`es each .deb
# into DIR/root. The packages are pure Python; what they import beyond these
# (requests, cryptography, sqlparse) comes from bookworm, which ci.sh installs
# with python3-django-oauth-toolkit 1.7.0.
#
# A second run finds DIR/root complete (a stamp file naming the packages, and
# a successful import) and only prints the folder.
set -euo pipefail
py=/usr/bin/python3
dir=${1:-${CRYPTOFUSE_DOT341_DIR:-/var/cache/cryptofuse-dot341}}
want_dot=3.4. # any 3.4.x: sid may move past 3.4.1
pkgs=(
	python3-django-oauth-toolkit
	python3-django
	python3-oauthlib
	python3-jwcrypto
	python3-asgiref
	python3-typing-extensions
)
site="$dir/root/usr/lib/python3/dist-packages"
fail() { echo "dot341.sh: $*" >&2; exit 1; }

# ready: DIR/root holds the packages of this script's list, and python3
# imports DOT ${want_dot}x from it.
ready() {
	[ -f "$dir/root.stamp" ] && [ "$(cat "$dir/root.stamp")" = "${pkgs[*]}" ] &&
		PYTHONPATH="$site" "$py" -c "
import django, oauth2_provider, sys
sys.exit(not oauth2_provider.__version__.startswith('$want_dot'))" 2>/dev/null
}
if ready; then
	echo "$site"
	exit 0
fi

# The archive apt already uses for bookworm, from the deb822 sources (URIs of
# the stanza whose Suites has bookworm) or a one-line sources.list.
mirror=$(awk '
	/^[[:space:]]*$/ { if (s && u) { print u; exit } s = 0; u = ""; next }
	/^URIs:/ { u = $2 }
	/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") s = 1 }
	END { if (s && u) print u }
' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
	mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i + 1) == "bookworm") { print $i; exit } } }' /etc/apt/sources.list)
fi
[ -n "$mirror" ] || fail "found no bookworm archive in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"

apt="$dir/apt"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d" "$apt/preferences.d" "$dir/debs"
: >"$apt/status"
cat >"$apt/sources.list" <<EOF
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main
EOF
cat >"$apt/apt.conf" <<EOF
Dir::Etc::SourceList "$apt/sources.list";
Dir::Etc::SourceParts "$apt/sources.list.d";
Dir::Etc::Preferences "$apt/preferences";
Dir::Etc::PreferencesParts "$apt/preferences.d";
Dir::State::Lists "$apt/lists";
Dir::State::status "$apt/status";
Dir::Cache "$apt/cache";
Acquire::Languages "none";
APT::Sandbox::User "root";
EOF
export APT_CONFIG="$apt/apt.conf"

echo "dot341.sh: fetching sid's package lists into $apt/lists" >&2
apt-get -q update >"$dir/apt-update.log" 2>&1 || { cat "$dir/apt-update.log" >&2; fail "apt-get update (sid, private configuration) failed"; }

rm -f "$dir/debs/"*.deb
(cd "$dir/debs" && apt-get -q download "${pkgs[@]}") >"$dir/apt-download.log" 2>&1 ||
	{ cat "$dir/apt-download.log" >&2; fail "apt-get download failed"; }

rm -rf "$dir/root" "$dir/root.stamp"
mkdir -p "$dir/root"
for deb in "$dir/debs/"*.deb; do
	echo "dot341.sh: unpacking $(basename "$deb")" >&2
	dpkg -x "$deb" "$dir/root"
done
echo "${pkgs[*]}" >"$dir/root.stamp"
ready || {
	PYTHONPATH="$site" "$py" -c 'import django, oauth2_provider; print("DOT", oauth2_provider.__version__)' >&2 || true
	fail "$site does not give django-oauth-toolkit ${want_dot}x to $py"
}
echo "$site"
