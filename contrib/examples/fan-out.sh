#!/bin/sh
# Shows: receive once, fan out to many: hookrelay serve takes each event over HTTP and sends it to
# every webhook whose filter matches, each in its own shape: the SOC's endpoint gets high and
# critical findings as they are, an audit log gets every event, and a Slack channel gets
# critical findings rendered for Slack. The webhooks are set up with the admin commands on the
# daemon's database; the running daemon picks them up within a second.
#
# usage: fan-out.sh DB SOC_URL AUDIT_URL SLACK_URL     (with hookrelay serve --db DB running)
#
# Environment: HOOKRELAY names the binary (default: hookrelay on the PATH); HOOKRELAY_ADMIN_FLAGS adds
# flags to each `hookrelay webhooks add` and `match`, split at blanks (so no value may hold one; globbing is off), e.g.
#   HOOKRELAY_ADMIN_FLAGS="--allow-http --allow-cidr 127.0.0.1/32"
# so the webhooks may point at a local `hookrelay receive` (serve needs the same flags to send there).
set -euf
hookrelay=${HOOKRELAY:-hookrelay}
admin_flags=${HOOKRELAY_ADMIN_FLAGS:-}
db=${1:?usage: fan-out.sh DB SOC_URL AUDIT_URL SLACK_URL}
soc=${2:?usage: fan-out.sh DB SOC_URL AUDIT_URL SLACK_URL}
audit=${3:?usage: fan-out.sh DB SOC_URL AUDIT_URL SLACK_URL}
slack=${4:?usage: fan-out.sh DB SOC_URL AUDIT_URL SLACK_URL}

# Each add prints the webhook with its new signing secret (once): give it to the receiver.
"$hookrelay" webhooks add --db "$db" --url "$soc" --event finding --min-severity high --description "SOC" $admin_flags
"$hookrelay" webhooks add --db "$db" --url "$audit" --description "audit log" $admin_flags
"$hookrelay" webhooks add --db "$db" --url "$slack" --event finding --severity critical --template slack \
    --description "#security on Slack" $admin_flags

# Where would a finding go, and why not elsewhere?
echo '{"event_type":"finding","finding":{"severity":"medium","title":"test"}}' | "$hookrelay" match --db "$db" $admin_flags

# Then post events to the daemon (its token is in DB.token unless HOOKRELAY_TOKEN is set):
#   curl -H "Authorization: Bearer $(cat "$db.token")" -H 'content-type: application/x-ndjson' \
#     --data-binary @events.ndjson http://127.0.0.1:8080/v1/events
