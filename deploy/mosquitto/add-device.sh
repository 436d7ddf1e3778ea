#!/usr/bin/env bash
# Add (or re-key) a device account: its username is its device id, so the %u ACL patterns let it
# publish only under smartward/v1/devices/<device id>/...
#
#   add-device.sh DEVICE_ID                      # prints a new random password
#   add-device.sh DEVICE_ID --gateway GW_USER    # device behind a gateway identity: grant GW_USER its topics
#   add-device.sh --service sw-ingest            # (re)key a service account
#
# Environment: SMARTWARD_MOSQUITTO_DIR (default /etc/mosquitto/smartward). Reload Mosquitto afterwards
# (systemctl reload mosquitto, or kill -HUP) - it re-reads the password and ACL files.
set -euo pipefail
dir="${SMARTWARD_MOSQUITTO_DIR:-/etc/mosquitto/smartward}"
root="${SMARTWARD_TOPIC_ROOT:-smartward/v1}"
usage() { sed -n '2,11p' "$0" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
service=""; gateway=""; has_gateway=""
if [[ "$1" == "--service" ]]; then service=1; shift; [[ $# -ge 1 ]] || usage; fi
name="$1"; shift
if [[ $# -ge 2 && "$1" == "--gateway" ]]; then has_gateway=1; gateway="$2"; shift 2; fi
[[ $# -eq 0 ]] || usage
# Every name written to the ACL or the password file follows the device-id rule: a newline, space or
# wildcard in one would add ACL lines of the caller's choosing.
id_rule='^[A-Za-z0-9_.-]{1,64}$'
if ! [[ "$name" =~ $id_rule ]]; then
  printf "add-device.sh: %q is not a device id ([A-Za-z0-9_.-]{1,64})\n" "$name" >&2; exit 1
fi
if [[ -n "$has_gateway" ]] && ! [[ "$gateway" =~ $id_rule ]]; then
  printf "add-device.sh: %q is not a gateway id ([A-Za-z0-9_.-]{1,64})\n" "$gateway" >&2; exit 1
fi
if ! [[ "$root" =~ ^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$ ]]; then
  printf "add-device.sh: SMARTWARD_TOPIC_ROOT %q is not a topic root (a/b/c, no wildcards)\n" "$root" >&2; exit 1
fi
if [[ -n "$has_gateway" ]]; then
  printf '\nuser %s\ntopic write %s/devices/%s/#\n' "$gateway" "$root" "$name" >> "$dir/acl"
  echo "gateway $gateway may now publish as $name (reload Mosquitto)"
  exit 0
fi
password="$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 24)"
touch "$dir/passwd"
chmod 600 "$dir/passwd"
mosquitto_passwd -b "$dir/passwd" "$name" "$password"
if [[ -n "$service" ]]; then
  echo "service account $name: password $password"
else
  echo "device $name: password $password  (broker URL mqtts://$name:$password@<broker>:8883)"
fi
