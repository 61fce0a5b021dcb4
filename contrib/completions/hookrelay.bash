#!/bin/bash

__hookrelay_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__hookrelay_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__hookrelay_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__hookrelay_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_hookrelay() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __hookrelay_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    filter|deliver|serve|webhooks|deliveries|match|teams|tokens|audit|render|sign|verify|receive|help)
        # Offer subcommand argument completions
        "_hookrelay_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'filter deliver serve webhooks deliveries match teams tokens audit render sign verify receive help' -- "${cur}"))
        ;;
    esac
}

_hookrelay_filter() {
    repeating_flags=()
    non_repeating_flags=(--invert --count --summary --print-fingerprint --unique --unique-ignores-severity --version -h --help)
    repeating_options=(--event --severity --asset)
    non_repeating_options=(--type-field --min-severity --severity-field --unique-window --fingerprint-fields --fingerprint-id-field --invalid --max-record-size --max-depth)
    __hookrelay_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--event')
        return
        ;;
    '--type-field')
        return
        ;;
    '--min-severity')
        return
        ;;
    '--severity')
        return
        ;;
    '--severity-field')
        return
        ;;
    '--asset')
        return
        ;;
    '--unique-window')
        return
        ;;
    '--fingerprint-fields')
        return
        ;;
    '--fingerprint-id-field')
        return
        ;;
    '--invalid')
        return
        ;;
    '--max-record-size')
        return
        ;;
    '--max-depth')
        return
        ;;
    esac
}

_hookrelay_deliver() {
    repeating_flags=()
    non_repeating_flags=(--allow-http --allow-private --dedupe-ignores-severity --no-dedupe-ignores-severity --drain --retry-failed --quiet --print-schedule --unsigned --version -h --help)
    repeating_options=(--url --header --signature-scheme --template-var --allow-cidr)
    non_repeating_options=(--secret-file --secret --template --digest --digest-bypass --digest-top --max-attempts --backoff-base --backoff-max --timeout --connect-timeout --proxy --client-cert --client-key --ca-file --dedupe-window --fingerprint-fields --fingerprint-id-field --concurrency --spool --wait --lease --prune --invalid --max-record-size --max-depth)
    __hookrelay_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--header')
        return
        ;;
    '--secret-file')
        return
        ;;
    '--secret')
        return
        ;;
    '--signature-scheme')
        return
        ;;
    '--template')
        return
        ;;
    '--template-var')
        return
        ;;
    '--digest')
        return
        ;;
    '--digest-bypass')
        return
        ;;
    '--digest-top')
        return
        ;;
    '--max-attempts')
        return
        ;;
    '--backoff-base')
        return
        ;;
    '--backoff-max')
        return
        ;;
    '--timeout')
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--allow-cidr')
        return
        ;;
    '--proxy')
        return
        ;;
    '--client-cert')
        return
        ;;
    '--client-key')
        return
        ;;
    '--ca-file')
        return
        ;;
    '--dedupe-window')
        return
        ;;
    '--fingerprint-fields')
        return
        ;;
    '--fingerprint-id-field')
        return
        ;;
    '--concurrency')
        return
        ;;
    '--spool')
        return
        ;;
    '--wait')
        return
        ;;
    '--lease')
        return
        ;;
    '--prune')
        return
        ;;
    '--invalid')
        return
        ;;
    '--max-record-size')
        return
        ;;
    '--max-depth')
        return
        ;;
    esac
}

_hookrelay_serve() {
    repeating_flags=()
    non_repeating_flags=(--allow-http --allow-private --version -h --help)
    repeating_options=(--allow-cidr)
    non_repeating_options=(--db --listen --config --token-file --log-format --concurrency --timeout --connect-timeout)
    __hookrelay_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--listen')
        return
        ;;
    '--config')
        return
        ;;
    '--token-file')
        return
        ;;
    '--log-format')
        return
        ;;
    '--concurrency')
        return
        ;;
    '--timeout')
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--allow-cidr')
        return
        ;;
    esac
}

_hookrelay_webhooks() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __hookrelay_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    list|show|add|update|delete|pause|resume|enable|rotate-secret|test|test-alert|retry-failed|recover)
        # Offer subcommand argument completions
        "_hookrelay_webhooks_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'list show add update delete pause resume enable rotate-secret test test-alert retry-failed recover' -- "${cur}"))
        ;;
    esac
}

_hookrelay_webhooks_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--team --db --config)
    __hookrelay_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--team')
        return
        ;;
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_webhooks_show() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--db --config)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_webhooks_add() {
    repeating_flags=()
    non_repeating_flags=(--trace-context --no-trace-context --no-client-cert --no-ca --dedupe-ignores-severity --no-dedupe-ignores-severity --no-ticket-close --json --allow-http --allow-private --create --version -h --help)
    repeating_options=(--event --severity --header --template-var --ticket-fixed-status --allow-cidr)
    non_repeating_options=(--url --min-severity --description --secret --secret-file --template --rate-limit --ordering --digest --digest-bypass --digest-top --client-cert --client-key --ca-file --dedupe-window --fingerprint-fields --fingerprint-id-field --tickets --ticket-close --ticket-comment-template --ticket-close-template --db --config --timeout --connect-timeout --team)
    __hookrelay_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--event')
        return
        ;;
    '--min-severity')
        return
        ;;
    '--severity')
        return
        ;;
    '--description')
        return
        ;;
    '--header')
        return
        ;;
    '--secret')
        return
        ;;
    '--secret-file')
        return
        ;;
    '--template')
        return
        ;;
    '--template-var')
        return
        ;;
    '--rate-limit')
        return
        ;;
    '--ordering')
        return
        ;;
    '--digest')
        return
        ;;
    '--digest-bypass')
        return
        ;;
    '--digest-top')
        return
        ;;
    '--client-cert')
        return
        ;;
    '--client-key')
        return
        ;;
    '--ca-file')
        return
        ;;
    '--dedupe-window')
        return
        ;;
    '--fingerprint-fields')
        return
        ;;
    '--fingerprint-id-field')
        return
        ;;
    '--tickets')
        return
        ;;
    '--ticket-close')
        return
        ;;
    '--ticket-fixed-status')
        return
        ;;
    '--ticket-comment-template')
        return
        ;;
    '--ticket-close-template')
        return
        ;;
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    '--timeout')
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--allow-cidr')
        return
        ;;
    '--team')
        return
        ;;
    esac
}

_hookrelay_webhooks_update() {
    repeating_flags=()
    non_repeating_flags=(--trace-context --no-trace-context --no-client-cert --no-ca --dedupe-ignores-severity --no-dedupe-ignores-severity --no-ticket-close --all-events --all-severities --no-headers --json --allow-http --allow-private --version -h --help)
    repeating_options=(--event --severity --header --template-var --ticket-fixed-status --allow-cidr)
    non_repeating_options=(--url --min-severity --description --secret --secret-file --template --rate-limit --ordering --digest --digest-bypass --digest-top --client-cert --client-key --ca-file --dedupe-window --fingerprint-fields --fingerprint-id-field --tickets --ticket-close --ticket-comment-template --ticket-close-template --db --config --timeout --connect-timeout)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--event')
        return
        ;;
    '--min-severity')
        return
        ;;
    '--severity')
        return
        ;;
    '--description')
        return
        ;;
    '--header')
        return
        ;;
    '--secret')
        return
        ;;
    '--secret-file')
        return
        ;;
    '--template')
        return
        ;;
    '--template-var')
        return
        ;;
    '--rate-limit')
        return
        ;;
    '--ordering')
        return
        ;;
    '--digest')
        return
        ;;
    '--digest-bypass')
        return
        ;;
    '--digest-top')
        return
        ;;
    '--client-cert')
        return
        ;;
    '--client-key')
        return
        ;;
    '--ca-file')
        return
        ;;
    '--dedupe-window')
        return
        ;;
    '--fingerprint-fields')
        return
        ;;
    '--fingerprint-id-field')
        return
        ;;
    '--tickets')
        return
        ;;
    '--ticket-close')
        return
        ;;
    '--ticket-fixed-status')
        return
        ;;
    '--ticket-comment-template')
        return
        ;;
    '--ticket-close-template')
        return
        ;;
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    '--timeout')
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--allow-cidr')
        return
        ;;
    esac
}

_hookrelay_webhooks_delete() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--db --config)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_webhooks_pause() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--db --config)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_webhooks_resume() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--db --config)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_webhooks_enable() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--db --config)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_webhooks_rotate-secret() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--db --config)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_webhooks_test() {
    repeating_flags=()
    non_repeating_flags=(--json --allow-http --allow-private --version -h --help)
    repeating_options=(--allow-cidr)
    non_repeating_options=(--db --config --timeout --connect-timeout)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    '--timeout')
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--allow-cidr')
        return
        ;;
    esac
}

_hookrelay_webhooks_test-alert() {
    repeating_flags=()
    non_repeating_flags=(--json --allow-http --allow-private --version -h --help)
    repeating_options=(--allow-cidr)
    non_repeating_options=(--team --db --config --timeout --connect-timeout)
    __hookrelay_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--team')
        return
        ;;
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    '--timeout')
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--allow-cidr')
        return
        ;;
    esac
}

_hookrelay_webhooks_retry-failed() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--db --config)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_webhooks_recover() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--since --db --config)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--since')
        return
        ;;
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_deliveries() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __hookrelay_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    list|show|retry)
        # Offer subcommand argument completions
        "_hookrelay_deliveries_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'list show retry' -- "${cur}"))
        ;;
    esac
}

_hookrelay_deliveries_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--webhook --status --since --limit --cursor --team --db --config)
    __hookrelay_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--webhook')
        return
        ;;
    '--status')
        return
        ;;
    '--since')
        return
        ;;
    '--limit')
        return
        ;;
    '--cursor')
        return
        ;;
    '--team')
        return
        ;;
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_deliveries_show() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--db --config)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_deliveries_retry() {
    repeating_flags=()
    non_repeating_flags=(--json --allow-http --allow-private --version -h --help)
    repeating_options=(--allow-cidr)
    non_repeating_options=(--db --config --timeout --connect-timeout)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    '--timeout')
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--allow-cidr')
        return
        ;;
    esac
}

_hookrelay_match() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--team --db --config)
    __hookrelay_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--team')
        return
        ;;
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_teams() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __hookrelay_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    list|show|add|delete)
        # Offer subcommand argument completions
        "_hookrelay_teams_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'list show add delete' -- "${cur}"))
        ;;
    esac
}

_hookrelay_teams_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--db --config)
    __hookrelay_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_teams_show() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--db --config)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_teams_add() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--name --db --config)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--name')
        return
        ;;
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_teams_delete() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--db --config)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_tokens() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __hookrelay_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    list|add|revoke)
        # Offer subcommand argument completions
        "_hookrelay_tokens_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'list add revoke' -- "${cur}"))
        ;;
    esac
}

_hookrelay_tokens_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--team --db --config)
    __hookrelay_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--team')
        return
        ;;
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_tokens_add() {
    repeating_flags=()
    non_repeating_flags=(--any-team --json --version -h --help)
    repeating_options=()
    non_repeating_options=(--role --team --description --expires-at --db --config)
    __hookrelay_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--role')
        return
        ;;
    '--team')
        return
        ;;
    '--description')
        return
        ;;
    '--expires-at')
        return
        ;;
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_tokens_revoke() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--db --config)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_audit() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __hookrelay_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    list)
        # Offer subcommand argument completions
        "_hookrelay_audit_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'list' -- "${cur}"))
        ;;
    esac
}

_hookrelay_audit_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--team --limit --before --db --config)
    __hookrelay_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--team')
        return
        ;;
    '--limit')
        return
        ;;
    '--before')
        return
        ;;
    '--db')
        return
        ;;
    '--config')
        return
        ;;
    esac
}

_hookrelay_render() {
    repeating_flags=()
    non_repeating_flags=(--fingerprint --version -h --help)
    repeating_options=(--template-var)
    non_repeating_options=(--template --fingerprint-fields --fingerprint-id-field --invalid --max-record-size --max-depth)
    __hookrelay_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--template')
        return
        ;;
    '--template-var')
        return
        ;;
    '--fingerprint-fields')
        return
        ;;
    '--fingerprint-id-field')
        return
        ;;
    '--invalid')
        return
        ;;
    '--max-record-size')
        return
        ;;
    '--max-depth')
        return
        ;;
    esac
}

_hookrelay_sign() {
    repeating_flags=()
    non_repeating_flags=(--new-secret --version -h --help)
    repeating_options=(--signature-scheme)
    non_repeating_options=(--id --timestamp --secret-file --secret)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--id')
        return
        ;;
    '--timestamp')
        return
        ;;
    '--secret-file')
        return
        ;;
    '--secret')
        return
        ;;
    '--signature-scheme')
        return
        ;;
    esac
}

_hookrelay_verify() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--headers --id --timestamp --signature --tolerance --secret-file --secret)
    __hookrelay_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--headers')
        return
        ;;
    '--id')
        return
        ;;
    '--timestamp')
        return
        ;;
    '--signature')
        return
        ;;
    '--tolerance')
        return
        ;;
    '--secret-file')
        return
        ;;
    '--secret')
        return
        ;;
    esac
}

_hookrelay_receive() {
    repeating_flags=()
    non_repeating_flags=(--unsigned --headers --version -h --help)
    repeating_options=()
    non_repeating_options=(--listen --secret-file --secret --tolerance --status --fail-first --max-body)
    __hookrelay_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--listen')
        return
        ;;
    '--secret-file')
        return
        ;;
    '--secret')
        return
        ;;
    '--tolerance')
        return
        ;;
    '--status')
        return
        ;;
    '--fail-first')
        return
        ;;
    '--max-body')
        return
        ;;
    esac
}

_hookrelay_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __hookrelay_offer_flags_options -1
}

complete -o filenames -F _hookrelay hookrelay
