# Shared by the scripts that pack host binaries into an image without a
# registry (node-base-image.sh, pg-image.sh, redis-image.sh; test-images.sh
# for the static busybox): a Debian merged-/usr rootfs skeleton, copying files
# and every shared library they load, the busybox applets, and installing a
# Debian package on the host without starting its service. Sourced, not run;
# callers set `set -euo pipefail` and define log/die.

# image_args <header lines to print for -h, as sed's range> <arg>...: FORCE and
# VERIFY from --force / --verify, the common options of the image scripts.
image_args() {
  local help="$1" arg
  shift
  FORCE=0
  VERIFY=0
  for arg in "$@"; do
    case "$arg" in
      --force) FORCE=1 ;;
      --verify) VERIFY=1 ;;
      -h | --help) sed -n "${help}p" "$0"; exit 0 ;;
      *) die "unknown argument: $arg (use --force, --verify)" ;;
    esac
  done
}

# rootfs_hash: part of each image's cache key, so a change here rebuilds them.
rootfs_hash() { sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1; }

# rootfs_static_busybox: path of a statically linked busybox, or "" (the
# dynamic one would need its libraries in every image).
rootfs_static_busybox() {
  local c out
  for c in /bin/busybox /usr/bin/busybox "$(command -v busybox 2>/dev/null || true)"; do
    [[ -n "$c" && -x "$c" ]] || continue
    out="$(LC_ALL=C ldd "$c" 2>&1 || true)" # ldd exits 1 on a static binary (pipefail)
    if grep -qiE 'not a dynamic|statically linked' <<<"$out"; then echo "$c"; return 0; fi
  done
  echo ""
}

# rootfs_apt_install <package> <file it provides>: install a Debian package on
# the host when that file is missing (root + apt only). policy-rc.d 101 keeps
# the package's postinst from starting its service on the host.
rootfs_apt_install() {
  local pkg="$1" want="$2" had_policy=0
  [[ -e "$want" ]] && return 0
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing $pkg on the host (apt-get; its service is not started)"
    [[ -e /usr/sbin/policy-rc.d ]] && had_policy=1
    if ((!had_policy)); then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null; }
    ((had_policy)) || rm -f /usr/sbin/policy-rc.d
  fi
  [[ -e "$want" ]] || die "need Debian's $pkg (apt-get install $pkg)"
}

# rootfs_init <dir>: an empty Debian merged-/usr tree (/bin, /sbin, /lib,
# /lib64 are links into /usr), so paths match Debian's images.
rootfs_init() {
  local root="$1"
  mkdir -p "$root"/usr/{bin,sbin,lib,lib64,local/bin,share} "$root"/{etc,tmp,root,var/tmp,proc,sys,dev,run}
  ln -s usr/bin "$root/bin"
  ln -s usr/sbin "$root/sbin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"
  chmod 1777 "$root/tmp" "$root/var/tmp"
}

# rootfs_path <dir> <host path>: the same path inside the merged-/usr tree
rootfs_path() {
  case "$2" in
    /bin/* | /sbin/* | /lib/* | /lib64/*) echo "$1/usr$2" ;;
    *) echo "$1$2" ;;
  esac
}

# rootfs_put <dir> <host file> [<path in image>]: copy one file (content, not a link), keeping its mode
rootfs_put() {
  local dst
  dst="$(rootfs_path "$1" "${3:-$2}")"
  mkdir -p "$(dirname "$dst")"
  cp -L --preserve=mode "$2" "$dst"
}

# rootfs_libs <dir> <elf>...: every shared library the ELF files load, at the
# path ldd names it by (plus the dynamic loader). glibc 2.36 has files/dns
# NSS built in, so no dlopen'ed NSS modules are needed.
rootfs_libs() {
  local root="$1" elf lib
  shift
  declare -A libs=()
  for elf in "$@"; do
    while IFS= read -r lib; do [[ -n "$lib" ]] && libs["$lib"]=1; done < <(
      LC_ALL=C ldd "$elf" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
    )
  done
  for lib in "${!libs[@]}"; do [[ -e "$(rootfs_path "$root" "$lib")" ]] || rootfs_put "$root" "$lib"; done
}

# rootfs_busybox <dir> <static busybox>: /usr/bin/busybox and its applets;
# real binaries already copied win over applets.
rootfs_busybox() {
  local root="$1" applet
  rootfs_put "$root" "$2" /usr/bin/busybox
  for applet in $("$2" --list); do
    [[ -e "$root/usr/bin/$applet" || -L "$root/usr/bin/$applet" ]] || ln -s busybox "$root/usr/bin/$applet"
  done
}

# rootfs_accounts <dir> <passwd line>...: /etc/passwd (root and nobody, then
# the given service users), the matching /etc/group, and nsswitch.conf.
rootfs_accounts() {
  local root="$1" line
  shift
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' "$@" >"$root/etc/passwd"
  {
    printf '%s\n' 'root:x:0:' 'nogroup:x:65534:'
    for line in "$@"; do awk -F: '{ print $1 ":x:" $4 ":" }' <<<"$line"; done
  } >"$root/etc/group"
  printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$root/etc/nsswitch.conf"
  [[ -e "$root/usr/sbin/nologin" ]] || ln -s /bin/false "$root/usr/sbin/nologin"
}

# rootfs_import <dir> <tag> <message> --change ...: tar the tree into `docker
# import` (numeric owners: root's copies stay root's and what it chowned keeps
# its uid; a non-root build's files become root's), then drop the image the tag
# pointed at before (fails harmlessly while a container uses it).
rootfs_import() {
  local root="$1" tag="$2" message="$3" old owners=()
  shift 3
  [[ "$(id -u)" == 0 ]] || owners=(--owner=0 --group=0)
  old="$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
  tar --numeric-owner "${owners[@]}" -C "$root" -cf - . | docker import --message "$message" "$@" - "$tag" >/dev/null
  [[ -z "$old" || "$old" == "$(docker image inspect --format '{{.Id}}' "$tag")" ]] || docker image rm "$old" >/dev/null 2>&1 || true
}
