# shellcheck shell=bash
# Sourced by scripts/systemd-test and scripts/package-test (bash, as root): a throw-away Debian
# bookworm container whose PID 1 is systemd (systemd-nspawn --volatile=overlay, so the cached
# image never changes), which runs /sessionhost-test/check.sh once booted, then powers off.
#
#   container_tools                 installs systemd-container and debootstrap when missing
#   container_image TOOL...         the cached base image, built when missing or lacking a TOOL
#   container_run WORK TIMEOUT      boots it with WORK at /sessionhost-test; WORK/check.sh runs
#                                   inside, its output lands in WORK/output.log, its exit status
#                                   in WORK/rc; console in WORK/console.log
#
# The image (debootstrap --variant=minbase, ~300 MB, about a minute with a good mirror) is
# cached in ${SESSIONHOST_TEST_ROOTFS:-/var/tmp/sessionhost-systemd-test/rootfs}; delete that
# folder to rebuild it. Environment: DEBIAN_MIRROR (default: debootstrap's default).
# Messages start with "$container_log_prefix: ".

container_log_prefix=${container_log_prefix:-systemd-container}
rootfs=${SESSIONHOST_TEST_ROOTFS:-/var/tmp/sessionhost-systemd-test/rootfs}

container_tools() {
  local need=()
  command -v systemd-nspawn >/dev/null || need+=(systemd-container)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  if [ ${#need[@]} -gt 0 ]; then
    echo "$container_log_prefix: installing ${need[*]}..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && apt-get install -y -qq "${need[@]}" >/dev/null; }
  fi
}

container_image() {
  local cache t ok=1
  cache=$(dirname "$rootfs")
  if [ -f "$rootfs/.sessionhost-test-ready" ]; then
    for t in "$@"; do
      [ -x "$rootfs/usr/bin/$t" ] || [ -x "$rootfs/usr/sbin/$t" ] \
        || { echo "$container_log_prefix: the cached image lacks $t" >&2; ok=0; break; }
    done
  else
    ok=0
  fi
  if [ "$ok" = 0 ]; then
    echo "$container_log_prefix: building the base image in $rootfs (once)..." >&2
    mkdir -p "$cache"; rm -rf "$rootfs" "$rootfs.tmp"
    # shellcheck disable=SC2086
    debootstrap --variant=minbase \
      --include=systemd,systemd-sysv,dbus,libsystemd0,curl,python3,procps \
      bookworm "$rootfs.tmp" ${DEBIAN_MIRROR:-} >"$cache/debootstrap.log" 2>&1 \
      || { echo "$container_log_prefix: debootstrap failed, see $cache/debootstrap.log" >&2; return 1; }
    # A quiet, quick boot: no getty on the console, no network configuration to wait for.
    rm -f "$rootfs.tmp/etc/systemd/system/getty.target.wants/"* 2>/dev/null || true
    echo sessionhost-test > "$rootfs.tmp/etc/hostname"
    mv "$rootfs.tmp" "$rootfs"
    touch "$rootfs/.sessionhost-test-ready"
  fi
  # The runner unit is (re)written on every run so that changes to it take effect.
  cat > "$rootfs/etc/systemd/system/sessionhost-test-run.service" <<'UNIT'
[Unit]
Description=Run the SessionHost systemd checks, then power off
After=multi-user.target
[Service]
Type=oneshot
StandardOutput=file:/sessionhost-test/output.log
StandardError=inherit
ExecStart=/bin/bash -c 'bash /sessionhost-test/check.sh; echo $? > /sessionhost-test/rc'
ExecStopPost=/bin/systemctl --no-block poweroff
[Install]
WantedBy=multi-user.target
UNIT
  mkdir -p "$rootfs/etc/systemd/system/multi-user.target.wants"
  ln -sf ../sessionhost-test-run.service \
    "$rootfs/etc/systemd/system/multi-user.target.wants/sessionhost-test-run.service"
}

container_run() {
  local work=$1 timeout_s=$2
  timeout --kill-after=10 "$timeout_s" systemd-nspawn -q --register=no --keep-unit \
    --volatile=overlay -D "$rootfs" --machine="sessionhost-test-$$" \
    --bind="$work:/sessionhost-test" -b >"$work/console.log" 2>&1 </dev/null || true
}
