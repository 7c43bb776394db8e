# After the first deploy the Event Grid-triggered function exists, so the Event Grid subscriptions can be
# created: turn them on in the azd environment and provision again. Later runs find them on and do nothing.
$ErrorActionPreference = 'Stop'
if ($env:FLOWLOG_EVENT_SUBSCRIPTIONS -eq 'true') {
  Write-Host 'flowlog: Event Grid subscriptions already enabled'
  exit 0
}
Write-Host 'flowlog: function deployed; creating the Event Grid subscriptions (azd provision)'
azd env set FLOWLOG_EVENT_SUBSCRIPTIONS true
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
azd provision --no-prompt
exit $LASTEXITCODE
