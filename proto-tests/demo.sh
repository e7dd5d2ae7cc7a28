#!/usr/bin/env bash
# The README's demo, run as a scenario so it cannot rot: its checks (sessions,
# reflected routes, pings within each VNI, isolation between VNIs) are this
# scenario's checks.
exec "$(dirname "$0")/../scripts/demo.sh"
