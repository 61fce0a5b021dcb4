#!/bin/sh
# Shows: a Slack alert for critical findings only, from a growing event log: filter passes each
# critical finding on as soon as it is appended, and deliver renders it with the built-in slack
# template (blocks with severity, title, asset, URL and remediation) for a Slack incoming webhook.
# Try the template first: hookrelay render --template slack < event.json
#
# usage: slack-critical.sh LOG SLACK_WEBHOOK_URL
#   e.g. slack-critical.sh /var/log/scanner/events.ndjson https://hooks.slack.com/services/T000/B000/XXXX
set -eu
hookrelay=${HOOKRELAY:-hookrelay}
log=${1:?usage: slack-critical.sh LOG SLACK_WEBHOOK_URL}
slack=${2:?usage: slack-critical.sh LOG SLACK_WEBHOOK_URL}

tail -n 0 -F "$log" |
    "$hookrelay" filter --event finding --severity critical |
    "$hookrelay" deliver --template slack --url "$slack" --quiet
