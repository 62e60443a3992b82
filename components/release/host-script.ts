// The one script an installed release runs on its host: `bash -c RELEASE_SCRIPT geartrain-release <action>
// <directory> ...`. Every argument is a validated path, key or number, checked again here; the archive itself
// arrives beforehand over SFTP (components/host/transport.ts uploadTo), never through a command line.
// Each action holds <directory>/.lock (flock) and prints one JSON line:
//   {"machine":"x86_64","current":"<key>"|"","releases":["<newest key>",...]}
// Actions:
//   status   <dir>                          read only (no directory is created)
//   prepare  <dir>                          makes <dir>/releases (0755), so an upload can land in it
//   install  <dir> <key> <upload|-> <keep>  unpacks the upload into <dir>/releases/.unpack-<key>-XXXXXX, checks
//            its release.json names <key>, renames it to <dir>/releases/<key> (a release is there whole or
//            not at all); with "-" the release must be there already. Then points <dir>/current at it
//            (a symlink, replaced by rename), marks it newest and removes all but the <keep> newest releases
//            and any leftover .unpack-/.upload- entry (only this script writes there, under the lock).
//   remove   <dir> <key>...                 removes those releases, `current` if it pointed at one, and
//            <dir>/releases and <dir> if nothing else is left in them
export const RELEASE_SCRIPT = [
  "set -euo pipefail",
  "action=$1 dir=$2",
  "shift 2",
  'die() { echo "geartrain-release: $*" >&2; exit 2; }',
  '[[ $dir =~ ^/[A-Za-z0-9._/@+-]*[A-Za-z0-9._@+-]$ && $dir != *..* ]] || die "bad directory"',
  "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  "umask 022",
  "rel=$dir/releases",
  'key_ok() { [[ $1 =~ ^[0-9a-f]{16}$ ]] || die "bad release key"; }',
  'complete() { [ -f "$rel/$1/release.json" ] && grep -q "\\"key\\": \\"$1\\"" "$rel/$1/release.json"; }',
  // the complete releases, newest install first
  "releases() {",
  "  local d k",
  '  [ -d "$rel" ] || return 0',
  '  for d in "$rel"/*; do',
  "    k=${d##*/}",
  '    [[ $k =~ ^[0-9a-f]{16}$ ]] && complete "$k" || continue',
  '    printf "%s %s\\n" "$(cat "$d/.installed" 2>/dev/null || echo 0)" "$k"',
  "  done | sort -rn | cut -d' ' -f2",
  "}",
  "report() {",
  '  local cur="" list',
  '  if [ -L "$dir/current" ]; then cur=$(readlink "$dir/current"); cur=${cur#releases/}; fi',
  '  [[ $cur =~ ^[0-9a-f]{16}$ ]] && complete "$cur" || cur=""',
  "  list=$(releases | sed 's/.*/\"&\"/' | paste -sd, -)",
  '  printf \'{"machine":"%s","current":"%s","releases":[%s]}\\n\' "$(uname -m)" "$cur" "$list"',
  "}",
  'lock() { exec 9>"$dir/.lock"; flock -w 600 9 || die "another install holds $dir/.lock"; }',
  "case $action in",
  "  status)",
  '    [ -d "$dir" ] && lock',
  "    report ;;",
  "  prepare)",
  '    mkdir -p -m 0755 -- "$dir" "$rel"',
  "    lock",
  "    report ;;",
  "  install)",
  "    key=$1 upload=$2 keep=$3",
  '    key_ok "$key"',
  '    [[ $keep =~ ^[1-9][0-9]?$ ]] || die "bad keep"',
  '    if [ "$upload" != - ]; then',
  '      [[ $upload =~ ^[A-Za-z0-9._/@+-]+$ && $upload == "$rel/.upload-$key-"* && $upload != *..* ]] || die "bad upload path"',
  "    fi",
  '    mkdir -p -m 0755 -- "$dir" "$rel"',
  "    lock",
  '    if ! complete "$key"; then',
  '      [ "$upload" != - ] && [ -f "$upload" ] || die "release $key is not on this host and no archive was uploaded"',
  '      tmp=$(mktemp -d -- "$rel/.unpack-$key-XXXXXX")',
  '      tar -xzf "$upload" -C "$tmp" --no-same-owner || { rm -rf --one-file-system -- "$tmp"; die "unpacking the archive failed"; }',
  '      chmod 0755 -- "$tmp"',
  '      grep -q "\\"key\\": \\"$key\\"" "$tmp/release.json" 2>/dev/null || { rm -rf --one-file-system -- "$tmp"; die "the archive is not release $key"; }',
  '      rm -rf --one-file-system -- "${rel:?}/$key"',
  '      mv -T -- "$tmp" "$rel/$key"',
  "    fi",
  '    [ "$upload" = - ] || rm -f -- "$upload"',
  '    date +%s%N >"$rel/$key/.installed"',
  '    ln -sfn -- "releases/$key" "$dir/.current.new"',
  '    mv -T -- "$dir/.current.new" "$dir/current"',
  '    rm -rf --one-file-system -- "$rel"/.unpack-* "$rel"/.upload-*',
  "    n=0",
  "    for k in $(releases); do",
  "      n=$((n + 1))",
  '      if [ "$n" -gt "$keep" ] && [ "$k" != "$key" ]; then rm -rf --one-file-system -- "${rel:?}/$k"; fi',
  "    done",
  "    report ;;",
  "  remove)",
  '    if [ ! -d "$dir" ]; then report; exit 0; fi',
  "    lock",
  '    for k in "$@"; do key_ok "$k"; rm -rf --one-file-system -- "${rel:?}/$k"; done',
  '    if [ -L "$dir/current" ] && [ ! -e "$dir/current" ]; then rm -f -- "$dir/current"; fi',
  '    if [ -d "$rel" ]; then rm -rf --one-file-system -- "$rel"/.unpack-* "$rel"/.upload-*; rmdir -- "$rel" 2>/dev/null || true; fi',
  '    if [ ! -e "$rel" ] && [ ! -e "$dir/current" ]; then rm -f -- "$dir/.lock"; rmdir -- "$dir" 2>/dev/null || true; fi',
  "    report ;;",
  '  *) die "unknown action $action" ;;',
  "esac",
].join("\n");
