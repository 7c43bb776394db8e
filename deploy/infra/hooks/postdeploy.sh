#!/bin/sh
# After the first deploy the Event Grid-triggered function exists, so the Event Grid subscriptions can be
# created: turn them on in the azd environment and provision again. Later runs find them on and do nothing.
set -eu
if [ "${FLOWLOG_EVENT_SUBSCRIPTIONS:-false}" = "true" ]; then
  echo "flowlog: Event Grid subscriptions already enabled"
  exit 0
fi
echo "flowlog: function deployed; creating the Event Grid subscriptions (azd provision)"
azd env set FLOWLOG_EVENT_SUBSCRIPTIONS true
azd provision --no-prompt
