#!/usr/bin/env bash
# contrib/check.sh - checks the drop-in monitoring files with promtool (run by
# scripts/test.sh, --quick included):
#   1. promtool check rules: evpnd-alerts.yml loads and lints clean;
#   2. promtool test rules: the alerts fire, and stay quiet, as
#      evpnd-alerts.test.yml says;
#   3. every query of the Grafana dashboard parses as PromQL: promtool has no
#      plain "parse this query", so each becomes a recording rule of a
#      throw-away rule file (Grafana's $__rate_interval and $instance
#      replaced by what they expand to) and that file is checked.
# That each metric these files name is one evpnd exports is checked by
# cargo test (tests/contrib_monitoring.rs, against the daemon's own renderer).
# needs: promtool (Debian package prometheus), jq
set -euo pipefail
cd "$(dirname "$0")"

promtool check rules prometheus/evpnd-alerts.yml
(cd prometheus && promtool test rules evpnd-alerts.test.yml)

queries=$(mktemp --suffix=.yml)
trap 'rm -f "$queries"' EXIT
# A JSON string is a YAML flow scalar: the queries go in as jq quotes them.
jq -r '
	[.. | objects | .expr? | strings
		| gsub("\\$__rate_interval"; "5m") | gsub("\\$instance"; ".*")]
	| if length == 0 then error("no queries in the dashboard") else . end
	| "groups:\n  - name: grafana-evpnd-json\n    rules:",
	  (to_entries[] | "      - record: dashboard:query_\(.key)\n        expr: \(.value | tojson)")
' grafana/evpnd.json >"$queries"
echo "grafana/evpnd.json: $(grep -c 'record:' "$queries") queries"
promtool check rules "$queries"
