#!/bin/sh
# Shows: a Slack alert for critical findings only, from a growing event log: filter passes each
# critical finding on as soon as it is appended, and deliver renders it with the built-in slack
# template (blocks with severity, title, asset, URL and remediation) for a Slack incoming webhook.
# Try the template first: hookrelay render --template slack < event.json
#
# usage: slack-critical.sh LOG SLACK_WEBHOOK_URL
#   e.g. slack-critical.sh /var/log/scanner/events.ndjson https://hooks.slack.com/services/T000/B000/XXXX
#
# Environment: HOOKRELAY names the binary (default: hookrelay on the PATH); HOOKRELAY_DELIVER_FLAGS adds
# flags to `hookrelay deliver`, split at blanks (so no value may hold one; globbing is off), e.g.
#   HOOKRELAY_DELIVER_FLAGS="--allow-http --allow-cidr 127.0.0.1/32"
# to send to a local `hookrelay receive`; deliver needs HOOKRELAY_SECRET (or --unsigned in the flags).
set -euf
hookrelay=${HOOKRELAY:-hookrelay}
deliver_flags=${HOOKRELAY_DELIVER_FLAGS:-}
log=${1:?usage: slack-critical.sh LOG SLACK_WEBHOOK_URL}
slack=${2:?usage: slack-critical.sh LOG SLACK_WEBHOOK_URL}

tail -n 0 -F "$log" |
    "$hookrelay" filter --event finding --severity critical |
    "$hookrelay" deliver --template slack --url "$slack" --quiet $deliver_flags   # split on purpose
