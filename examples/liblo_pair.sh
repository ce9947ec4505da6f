#!/bin/sh
# liblo's oscsend asks `semeq serve`; oscdump, listening on another port, prints the replies.
# Usage: examples/liblo_pair.sh "a bit warmer" [SERVER_PORT] [LISTEN_PORT]
# Needs Debian's liblo-tools (oscsend, oscdump) and a running `semeq serve`.
set -eu
text=${1:-warmer}
server_port=${2:-7710}
listen_port=${3:-9010}

oscdump -L "$listen_port" &
dump=$!
trap 'kill "$dump" 2>/dev/null' EXIT INT TERM
sleep 0.3

# id, text, then the option pair reply_port <int>: the replies go to oscdump, not to oscsend.
oscsend 127.0.0.1 "$server_port" /semeq/eq sssi "liblo-$$" "$text" reply_port "$listen_port"

# oscdump prints /semeq/reply/json, /semeq/reply/params (13 floats), /semeq/reply/reaeq (5 bands).
sleep 1
