function __hookrelay_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __hookrelay_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __hookrelay_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __hookrelay_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __hookrelay_parse_tokens -S
    set -l unparsed_tokens (__hookrelay_tokens -pc)
    switch $unparsed_tokens[1]
    case 'hookrelay'
        __hookrelay_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'filter'
            __hookrelay_parse_subcommand -r 1 'event=+' 'type-field=' 'min-severity=' 'severity=+' 'severity-field=' 'asset=+' 'invert' 'count' 'summary' 'invalid=' 'max-record-size=' 'max-depth=' 'version' 'h/help'
        case 'deliver'
            __hookrelay_parse_subcommand -r 1 'url=+' 'header=+' 'secret-file=' 'secret=' 'signature-scheme=+' 'template=' 'template-var=+' 'max-attempts=' 'backoff-base=' 'backoff-max=' 'timeout=' 'connect-timeout=' 'allow-http' 'allow-cidr=+' 'allow-private' 'concurrency=' 'spool=' 'drain' 'retry-failed' 'wait=' 'lease=' 'quiet' 'print-schedule' 'unsigned' 'invalid=' 'max-record-size=' 'max-depth=' 'version' 'h/help'
        case 'serve'
            __hookrelay_parse_subcommand 0 'db=' 'listen=' 'config=' 'token-file=' 'log-format=' 'concurrency=' 'timeout=' 'connect-timeout=' 'allow-http' 'allow-cidr=+' 'allow-private' 'version' 'h/help'
        case 'webhooks'
            __hookrelay_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'list'
                __hookrelay_parse_subcommand 0 'db=' 'config=' 'json' 'version' 'h/help'
            case 'show'
                __hookrelay_parse_subcommand 1 'db=' 'config=' 'json' 'version' 'h/help'
            case 'add'
                __hookrelay_parse_subcommand 0 'url=' 'event=+' 'min-severity=' 'severity=+' 'description=' 'header=+' 'secret=' 'secret-file=' 'template=' 'template-var=+' 'db=' 'config=' 'json' 'timeout=' 'connect-timeout=' 'allow-http' 'allow-cidr=+' 'allow-private' 'create' 'version' 'h/help'
            case 'update'
                __hookrelay_parse_subcommand 1 'url=' 'event=+' 'min-severity=' 'severity=+' 'description=' 'header=+' 'secret=' 'secret-file=' 'template=' 'template-var=+' 'all-events' 'all-severities' 'no-headers' 'db=' 'config=' 'json' 'timeout=' 'connect-timeout=' 'allow-http' 'allow-cidr=+' 'allow-private' 'version' 'h/help'
            case 'delete'
                __hookrelay_parse_subcommand 1 'db=' 'config=' 'json' 'version' 'h/help'
            case 'pause'
                __hookrelay_parse_subcommand 1 'db=' 'config=' 'json' 'version' 'h/help'
            case 'resume'
                __hookrelay_parse_subcommand 1 'db=' 'config=' 'json' 'version' 'h/help'
            case 'enable'
                __hookrelay_parse_subcommand 1 'db=' 'config=' 'json' 'version' 'h/help'
            case 'rotate-secret'
                __hookrelay_parse_subcommand 1 'db=' 'config=' 'json' 'version' 'h/help'
            case 'test'
                __hookrelay_parse_subcommand 1 'db=' 'config=' 'json' 'timeout=' 'connect-timeout=' 'allow-http' 'allow-cidr=+' 'allow-private' 'version' 'h/help'
            case 'retry-failed'
                __hookrelay_parse_subcommand 1 'db=' 'config=' 'json' 'version' 'h/help'
            case 'recover'
                __hookrelay_parse_subcommand 1 'since=' 'db=' 'config=' 'json' 'version' 'h/help'
            end
        case 'deliveries'
            __hookrelay_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'list'
                __hookrelay_parse_subcommand 0 'webhook=' 'status=' 'since=' 'limit=' 'cursor=' 'db=' 'config=' 'json' 'version' 'h/help'
            case 'show'
                __hookrelay_parse_subcommand 1 'db=' 'config=' 'json' 'version' 'h/help'
            case 'retry'
                __hookrelay_parse_subcommand 1 'db=' 'config=' 'json' 'timeout=' 'connect-timeout=' 'allow-http' 'allow-cidr=+' 'allow-private' 'version' 'h/help'
            end
        case 'match'
            __hookrelay_parse_subcommand 0 'db=' 'config=' 'json' 'version' 'h/help'
        case 'render'
            __hookrelay_parse_subcommand -r 1 'template=' 'template-var=+' 'invalid=' 'max-record-size=' 'max-depth=' 'version' 'h/help'
        case 'sign'
            __hookrelay_parse_subcommand 1 'id=' 'timestamp=' 'new-secret' 'secret-file=' 'secret=' 'signature-scheme=+' 'version' 'h/help'
        case 'verify'
            __hookrelay_parse_subcommand 1 'headers=' 'id=' 'timestamp=' 'signature=' 'tolerance=' 'secret-file=' 'secret=' 'version' 'h/help'
        case 'receive'
            __hookrelay_parse_subcommand 0 'listen=' 'secret-file=' 'secret=' 'unsigned' 'tolerance=' 'status=' 'fail-first=' 'headers' 'max-body=' 'version' 'h/help'
        case 'help'
            __hookrelay_parse_subcommand -r 1 'version'
        end
    end
end

function __hookrelay_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __hookrelay_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __hookrelay_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __hookrelay_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__hookrelay_tokens -p)
    if test -z "$(__hookrelay_tokens -t)"
        set -l index (count (__hookrelay_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'hookrelay' -f
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay" -eq 1' -fa 'filter' -d 'Keep the JSON events that match event-type, severity and asset filters.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay" -eq 1' -fa 'deliver' -d 'POST JSON events to webhook URLs, signed, with retries and an optional durable spool.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay" -eq 1' -fa 'serve' -d 'Run the daemon: durable event ingest over HTTP, webhook subscriptions, delivery with retries.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay" -eq 1' -fa 'webhooks' -d 'List, create, change, test and delete the webhooks of hookrelay serve, in its database file.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay" -eq 1' -fa 'deliveries' -d 'List and show the deliveries of hookrelay serve, with their attempts, and retry one.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay" -eq 1' -fa 'match' -d 'Read one event on standard input and show which webhooks of hookrelay serve it goes to, and why not the others.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay" -eq 1' -fa 'render' -d 'Print the body a payload template makes of each event, as deliver would send it.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay" -eq 1' -fa 'sign' -d 'Print the Standard Webhooks headers for a body.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay" -eq 1' -fa 'verify' -d 'Check a received body against its Standard Webhooks headers and a secret.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay" -eq 1' -fa 'receive' -d 'Receive webhooks: check each request\'s signature and write each event once to standard output.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay filter"' -l 'event' -d 'Keep events of this type (repeatable, or comma-separated).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay filter" type-field' -l 'type-field' -d 'Dotted path of the event type field.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay filter" min-severity' -l 'min-severity' -d 'Keep findings at or above this severity (critical > high > medium > low > info, any case). Events without a severity pass.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay filter"' -l 'severity' -d 'Keep findings of exactly this severity (repeatable, or comma-separated).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay filter" severity-field' -l 'severity-field' -d 'Dotted path of the severity field (default: finding.severity, else severity).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay filter"' -l 'asset' -d 'Keep events whose asset (finding.asset, scan.asset, asset.name or asset) matches this shell glob (repeatable).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay filter" invert' -l 'invert' -d 'Keep the events that do not match instead.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay filter" count' -l 'count' -d 'Print only the number of kept events.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay filter" summary' -l 'summary' -d 'Print one line on standard error at the end: read, matched, invalid, unknown severity.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay filter" invalid' -l 'invalid' -d 'What to do with an invalid record: \'report\' (report, skip, exit 65 at the end), \'fail\' (stop at the first, exit 65), or a FILE to append the raw bad records to (exit 0).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay filter" max-record-size' -l 'max-record-size' -d 'Largest record accepted, in bytes or with a k, M or G suffix; a larger one is reported and skipped.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay filter" max-depth' -l 'max-depth' -d 'Deepest nesting of arrays and objects accepted in a record.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay filter" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay filter" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver"' -l 'url' -d 'Webhook URL to POST every event to (repeatable).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver"' -l 'header' -d 'Extra request header \'Name: value\' (repeatable); ${VAR} in the value is read from the environment.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" secret-file' -l 'secret-file' -d 'File of webhook secrets (whsec_<base64>), one per line; several while a secret is rotated.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" secret' -l 'secret' -d 'A webhook secret on the command line: visible to other users in ps and shell history; prefer --secret-file or HOOKRELAY_SECRET.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver"' -l 'signature-scheme' -d 'Signatures to send: \'standard\' (webhook-signature), \'github\' (X-Hub-Signature-256), or both comma-separated (default standard).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" template' -l 'template' -d 'Payload template: raw (the event\'s bytes, the default), slack, teams, discord, jira, github-issue, or a Mustache file.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver"' -l 'template-var' -d 'A value for the template, NAME=VALUE, {{vars.NAME}} in it (repeatable); jira needs project and issue_type.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" max-attempts' -l 'max-attempts' -d 'Attempts per event and URL, the first included (default 8).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" backoff-base' -l 'backoff-base' -d 'First retry delay ceiling; it doubles each attempt (0.5, 500ms, 30s, 5m, 2h; default 1s).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" backoff-max' -l 'backoff-max' -d 'Largest delay between attempts; also caps Retry-After (default 5m).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" timeout' -l 'timeout' -d 'Limit for a whole attempt: connect, send, and read the response (default 15s).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" connect-timeout' -l 'connect-timeout' -d 'Limit for connecting (default 5s).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" allow-http' -l 'allow-http' -d 'Allow plain http:// URLs (for testing: events and signatures travel unencrypted).'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver"' -l 'allow-cidr' -d 'Allow sending to addresses in this otherwise blocked range, e.g. 10.1.2.0/24 (repeatable).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" allow-private' -l 'allow-private' -d 'Allow the private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); loopback and link-local stay blocked.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" concurrency' -l 'concurrency' -d 'Deliveries in flight at once.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" spool' -l 'spool' -d 'SQLite spool file: events are committed here before they are sent.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" drain' -l 'drain' -d 'Send what the spool holds that is due, without reading input (what cron runs).'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" retry-failed' -l 'retry-failed' -d 'Put the spool\'s failed deliveries back in the queue, then drain.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" wait' -l 'wait' -d 'With --spool: how long to stay for retries not yet due (\'forever\' by default, 0 with --drain); what is left stays pending in the spool.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" lease' -l 'lease' -d 'With --spool: how long a claim holds a delivery before another process may send it (default: --timeout + --connect-timeout + 30s).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" quiet' -l 'quiet' -d 'Print no result lines and no summary.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" print-schedule' -l 'print-schedule' -d 'Print the retry schedule these options give, and exit.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" unsigned' -l 'unsigned' -d 'Send without a signature (no secret given): only for receivers that check nothing.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" invalid' -l 'invalid' -d 'What to do with an invalid record: \'report\' (report, skip, exit 65 at the end), \'fail\' (stop at the first, exit 65), or a FILE to append the raw bad records to (exit 0).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" max-record-size' -l 'max-record-size' -d 'Largest record accepted, in bytes or with a k, M or G suffix; a larger one is reported and skipped.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" max-depth' -l 'max-depth' -d 'Deepest nesting of arrays and objects accepted in a record.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliver" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay serve" db' -l 'db' -d 'SQLite database file (created and migrated on first start), or a postgres:// URL (default: HOOKRELAY_DB, else the config\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay serve" listen' -l 'listen' -d 'Address to listen on, HOST:PORT (default 127.0.0.1:8080; port 0 picks a free one).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay serve" config' -l 'config' -d 'TOML or JSON config file; flags override its keys.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay serve" token-file' -l 'token-file' -d 'File holding the API token (default: HOOKRELAY_TOKEN, else DB.token, generated on the first start).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay serve" log-format' -l 'log-format' -d 'Log lines as \'text\' or \'json\' (on standard error).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay serve" concurrency' -l 'concurrency' -d 'Deliveries in flight at once (default 32).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay serve" timeout' -l 'timeout' -d 'Limit for a whole attempt: connect, send, and read the response (default 15s).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay serve" connect-timeout' -l 'connect-timeout' -d 'Limit for connecting (default 5s).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay serve" allow-http' -l 'allow-http' -d 'Allow plain http:// URLs (for testing: events and signatures travel unencrypted).'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay serve"' -l 'allow-cidr' -d 'Allow sending to addresses in this otherwise blocked range, e.g. 10.1.2.0/24 (repeatable).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay serve" allow-private' -l 'allow-private' -d 'Allow the private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); loopback and link-local stay blocked.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay serve" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay serve" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay webhooks" -eq 1' -fa 'list' -d 'List the webhooks, oldest first.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay webhooks" -eq 1' -fa 'show' -d 'Show one webhook (its secret\'s first characters only).'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay webhooks" -eq 1' -fa 'add' -d 'Create a webhook and print it with its signing secret, shown this once.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay webhooks" -eq 1' -fa 'update' -d 'Change the settings given and keep the others; print the webhook.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay webhooks" -eq 1' -fa 'delete' -d 'Delete a webhook and its pending deliveries; print how many were discarded.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay webhooks" -eq 1' -fa 'pause' -d 'Hold the webhook\'s deliveries (new events are still recorded) until it is resumed.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay webhooks" -eq 1' -fa 'resume' -d 'Send the deliveries of a paused webhook again.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay webhooks" -eq 1' -fa 'enable' -d 'Make a webhook healthy again, whatever its state, with its failures reset.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay webhooks" -eq 1' -fa 'rotate-secret' -d 'Give the webhook a new signing secret and print it; the old one signs beside it for 24 hours.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay webhooks" -eq 1' -fa 'test' -d 'Send a signed sample finding to the webhook now (paused or disabled too) and print how it went.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay webhooks" -eq 1' -fa 'retry-failed' -d 'Queue the webhook\'s failed deliveries again; print how many.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay webhooks" -eq 1' -fa 'recover' -d 'Send again every event stored since a time that the webhook\'s filter matched; print how many.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks list" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks list" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks list" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks list" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks show" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks show" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks show" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks show" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" url' -l 'url' -d 'Where to POST the events: an https URL (http with --allow-http).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add"' -l 'event' -d 'Send events of this type only (repeatable, or comma-separated; default every type).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" min-severity' -l 'min-severity' -d 'Send findings at or above this severity (critical > high > medium > low > info); events without a severity pass.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add"' -l 'severity' -d 'Send findings of exactly this severity (repeatable, or comma-separated).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" description' -l 'description' -d 'Free text about the webhook.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add"' -l 'header' -d 'An extra request header, \'Name: value\' (repeatable), stored and sent as given.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" secret' -l 'secret' -d 'The signing secret, whsec_<base64> of 24 to 64 bytes (default: 32 random bytes); visible in ps, prefer --secret-file.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" secret-file' -l 'secret-file' -d 'A file holding the signing secret.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" template' -l 'template' -d 'Payload template: raw (the event\'s bytes, the default), slack, teams, discord, jira or github-issue.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add"' -l 'template-var' -d 'A value for the template, NAME=VALUE (repeatable; on update they replace every value); jira needs project and issue_type.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" timeout' -l 'timeout' -d 'Limit for a whole attempt: connect, send, and read the response (default 15s).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" connect-timeout' -l 'connect-timeout' -d 'Limit for connecting (default 5s).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" allow-http' -l 'allow-http' -d 'Allow plain http:// URLs (for testing: events and signatures travel unencrypted).'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add"' -l 'allow-cidr' -d 'Allow sending to addresses in this otherwise blocked range, e.g. 10.1.2.0/24 (repeatable).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" allow-private' -l 'allow-private' -d 'Allow the private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); loopback and link-local stay blocked.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" create' -l 'create' -d 'Create the database when it does not exist (it is removed again if the webhook is refused).'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks add" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" url' -l 'url' -d 'A new URL.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update"' -l 'event' -d 'Send events of this type only (repeatable, or comma-separated; default every type).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" min-severity' -l 'min-severity' -d 'Send findings at or above this severity (critical > high > medium > low > info); events without a severity pass.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update"' -l 'severity' -d 'Send findings of exactly this severity (repeatable, or comma-separated).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" description' -l 'description' -d 'Free text about the webhook.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update"' -l 'header' -d 'An extra request header, \'Name: value\' (repeatable), stored and sent as given.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" secret' -l 'secret' -d 'The signing secret, whsec_<base64> of 24 to 64 bytes (default: 32 random bytes); visible in ps, prefer --secret-file.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" secret-file' -l 'secret-file' -d 'A file holding the signing secret.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" template' -l 'template' -d 'Payload template: raw (the event\'s bytes, the default), slack, teams, discord, jira or github-issue.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update"' -l 'template-var' -d 'A value for the template, NAME=VALUE (repeatable; on update they replace every value); jira needs project and issue_type.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" all-events' -l 'all-events' -d 'Send events of every type (clears --event).'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" all-severities' -l 'all-severities' -d 'Send events of every severity (clears --min-severity and --severity).'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" no-headers' -l 'no-headers' -d 'Remove every extra header.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" timeout' -l 'timeout' -d 'Limit for a whole attempt: connect, send, and read the response (default 15s).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" connect-timeout' -l 'connect-timeout' -d 'Limit for connecting (default 5s).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" allow-http' -l 'allow-http' -d 'Allow plain http:// URLs (for testing: events and signatures travel unencrypted).'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update"' -l 'allow-cidr' -d 'Allow sending to addresses in this otherwise blocked range, e.g. 10.1.2.0/24 (repeatable).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" allow-private' -l 'allow-private' -d 'Allow the private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); loopback and link-local stay blocked.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks update" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks delete" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks delete" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks delete" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks delete" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks delete" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks pause" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks pause" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks pause" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks pause" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks pause" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks resume" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks resume" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks resume" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks resume" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks resume" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks enable" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks enable" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks enable" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks enable" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks enable" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks rotate-secret" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks rotate-secret" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks rotate-secret" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks rotate-secret" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks rotate-secret" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks test" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks test" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks test" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks test" timeout' -l 'timeout' -d 'Limit for a whole attempt: connect, send, and read the response (default 15s).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks test" connect-timeout' -l 'connect-timeout' -d 'Limit for connecting (default 5s).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks test" allow-http' -l 'allow-http' -d 'Allow plain http:// URLs (for testing: events and signatures travel unencrypted).'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks test"' -l 'allow-cidr' -d 'Allow sending to addresses in this otherwise blocked range, e.g. 10.1.2.0/24 (repeatable).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks test" allow-private' -l 'allow-private' -d 'Allow the private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); loopback and link-local stay blocked.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks test" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks test" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks retry-failed" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks retry-failed" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks retry-failed" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks retry-failed" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks retry-failed" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks recover" since' -l 'since' -d 'From when: an RFC 3339 time, Unix seconds, or a duration ago (24h).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks recover" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks recover" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks recover" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks recover" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay webhooks recover" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay deliveries" -eq 1' -fa 'list' -d 'List deliveries, newest first, a page at a time.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay deliveries" -eq 1' -fa 'show' -d 'Show a delivery, its attempts with their responses, and its event as received.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_positional "hookrelay deliveries" -eq 1' -fa 'retry' -d 'Make one attempt of a delivery now, whatever its status, and print how it went.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries list" webhook' -l 'webhook' -d 'Only the deliveries of this webhook.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries list" status' -l 'status' -d 'Only deliveries in this status: pending, delivered, failed or skipped.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries list" since' -l 'since' -d 'Only deliveries of events stored since: an RFC 3339 time, Unix seconds, or a duration ago (24h).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries list" limit' -l 'limit' -d 'Deliveries per page, 1 to 1000.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries list" cursor' -l 'cursor' -d 'Where the page starts: the cursor the previous page gave.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries list" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries list" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries list" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries list" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries show" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries show" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries show" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries show" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries retry" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries retry" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries retry" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries retry" timeout' -l 'timeout' -d 'Limit for a whole attempt: connect, send, and read the response (default 15s).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries retry" connect-timeout' -l 'connect-timeout' -d 'Limit for connecting (default 5s).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries retry" allow-http' -l 'allow-http' -d 'Allow plain http:// URLs (for testing: events and signatures travel unencrypted).'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries retry"' -l 'allow-cidr' -d 'Allow sending to addresses in this otherwise blocked range, e.g. 10.1.2.0/24 (repeatable).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries retry" allow-private' -l 'allow-private' -d 'Allow the private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); loopback and link-local stay blocked.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries retry" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay deliveries retry" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay match" db' -l 'db' -d 'The database of hookrelay serve, a file or a postgres:// URL (default: HOOKRELAY_DB, else the config file\'s db, else hookrelay.db).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay match" config' -l 'config' -d 'The TOML or JSON config file of hookrelay serve: its db, retry schedule, health and sending settings apply here too.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay match" json' -l 'json' -d 'Print the API\'s JSON instead of a table.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay match" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay match" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay render" template' -l 'template' -d 'Payload template: raw (the event\'s bytes, the default), slack, teams, discord, jira, github-issue, or a Mustache file.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay render"' -l 'template-var' -d 'A value for the template, NAME=VALUE, {{vars.NAME}} in it (repeatable); jira needs project and issue_type.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay render" invalid' -l 'invalid' -d 'What to do with an invalid record: \'report\' (report, skip, exit 65 at the end), \'fail\' (stop at the first, exit 65), or a FILE to append the raw bad records to (exit 0).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay render" max-record-size' -l 'max-record-size' -d 'Largest record accepted, in bytes or with a k, M or G suffix; a larger one is reported and skipped.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay render" max-depth' -l 'max-depth' -d 'Deepest nesting of arrays and objects accepted in a record.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay render" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay render" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay sign" id' -l 'id' -d 'The webhook-id to sign with.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay sign" timestamp' -l 'timestamp' -d 'The webhook-timestamp (Unix seconds); default now.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay sign" new-secret' -l 'new-secret' -d 'Print a new random secret (32 bytes, whsec_ form) and exit.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay sign" secret-file' -l 'secret-file' -d 'File of webhook secrets (whsec_<base64>), one per line; several while a secret is rotated.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay sign" secret' -l 'secret' -d 'A webhook secret on the command line: visible to other users in ps and shell history; prefer --secret-file or HOOKRELAY_SECRET.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay sign"' -l 'signature-scheme' -d 'Signatures to send: \'standard\' (webhook-signature), \'github\' (X-Hub-Signature-256), or both comma-separated (default standard).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay sign" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay sign" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay verify" headers' -l 'headers' -d 'File of received headers, one \'name: value\' per line.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay verify" id' -l 'id' -d 'The received webhook-id.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay verify" timestamp' -l 'timestamp' -d 'The received webhook-timestamp.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay verify" signature' -l 'signature' -d 'The received webhook-signature (one or more \'v1,<base64>\' separated by spaces).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay verify" tolerance' -l 'tolerance' -d 'Largest accepted distance between the timestamp and now.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay verify" secret-file' -l 'secret-file' -d 'File of webhook secrets (whsec_<base64>), one per line; several while a secret is rotated.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay verify" secret' -l 'secret' -d 'A webhook secret on the command line: visible to other users in ps and shell history; prefer --secret-file or HOOKRELAY_SECRET.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay verify" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay verify" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay receive" listen' -l 'listen' -d 'Address to listen on, HOST:PORT (port 0 picks a free one, reported on standard error).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay receive" secret-file' -l 'secret-file' -d 'File of webhook secrets (whsec_<base64>), one per line; several while a secret is rotated.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay receive" secret' -l 'secret' -d 'A webhook secret on the command line: visible to other users in ps and shell history; prefer --secret-file or HOOKRELAY_SECRET.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay receive" unsigned' -l 'unsigned' -d 'Accept requests without checking any signature (no secret needed; for trying senders out only).'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay receive" tolerance' -l 'tolerance' -d 'Largest accepted distance between webhook-timestamp and now.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay receive" status' -l 'status' -d 'HTTP status to answer verified requests with; outside 2xx their events are not written.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay receive" fail-first' -l 'fail-first' -d 'Answer the first N verified requests 503 without writing them, to rehearse retries.' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay receive" headers' -l 'headers' -d 'Write {"headers":{...},"body":EVENT} lines instead of the events alone.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay receive" max-body' -l 'max-body' -d 'Largest accepted body; larger ones are answered 413 (bytes, or with k, M or G).' -rfka ''
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay receive" version' -l 'version' -d 'Show the version.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay receive" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'hookrelay' -n '__hookrelay_should_offer_completions_for_flags_or_options "hookrelay help" version' -l 'version' -d 'Show the version.'
