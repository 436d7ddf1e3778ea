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
service=""; gateway=""
if [[ "$1" == "--service" ]]; then service=1; shift; [[ $# -ge 1 ]] || usage; fi
name="$1"; shift
if [[ $# -ge 2 && "$1" == "--gateway" ]]; then gateway="$2"; shift 2; fi
[[ $# -eq 0 ]] || usage
if ! [[ "$name" =~ ^[A-Za-z0-9_.-]{1,64}$ ]]; then
  echo "add-device.sh: '$name' is not a device id ([A-Za-z0-9_.-]{1,64})" >&2; exit 1
fi
if [[ -n "$gateway" ]]; then
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
