#!/usr/bin/env sh
# Step two of a deployment: once the code runs, subscribe the blob trigger's webhook to BlobCreated events under
# score-in/ (infra-bicep/eventgrid.bicep). azd runs it as the postdeploy hook with its environment's values; by hand,
# export the same names (outputs of main.bicep) and AZURE_RESOURCE_GROUP first.
set -eu
: "${AZURE_RESOURCE_GROUP:?set AZURE_RESOURCE_GROUP}"
: "${AZURE_FUNCTION_APP_NAME:?set AZURE_FUNCTION_APP_NAME (output of main.bicep)}"
: "${AZURE_STORAGE_ACCOUNT_NAME:?set AZURE_STORAGE_ACCOUNT_NAME}"
: "${AZURE_EVENTGRID_TOPIC_NAME:?set AZURE_EVENTGRID_TOPIC_NAME}"
: "${AZURE_IDENTITY_ID:?set AZURE_IDENTITY_ID}"
here=$(dirname "$0")

# The host creates its 'blobs_extension' key when it first starts; wake it and wait for the key.
url=$(az functionapp show -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" --query defaultHostName -o tsv)
curl -fsS "https://$url/api/health" >/dev/null || true
for attempt in $(seq 1 30); do
  key=$(az functionapp keys list -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" --query "systemKeys.blobs_extension" -o tsv 2>/dev/null || true)
  [ -n "$key" ] && break
  echo "Waiting for the blobs_extension key ($attempt/30)..."
  sleep 10
done
[ -n "${key:-}" ] || { echo "The app has no blobs_extension key yet: is the code deployed and starting?" >&2; exit 1; }

az deployment group create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --template-file "$here/../eventgrid.bicep" \
  --parameters functionAppName="$AZURE_FUNCTION_APP_NAME" storageAccountName="$AZURE_STORAGE_ACCOUNT_NAME" \
               systemTopicName="$AZURE_EVENTGRID_TOPIC_NAME" identityId="$AZURE_IDENTITY_ID" \
  --query properties.outputs -o json
echo "Blob events under score-in/ now reach ScoreOnBlobDrop."
