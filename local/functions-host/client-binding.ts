/**
 * The durableClient input binding data the extension hands to client functions, pointing at the
 * host's loopback server: `rpcBaseUrl` is what `df.getClient(context)` calls, the creation and
 * management URLs are the public webhook API (`/runtime/webhooks/durabletask`).
 *
 * Note: unless WEBSITE_HOSTNAME is set, durable-functions rewrites the origin of the creation and
 * management URLs to http://localhost:7071; createCheckStatusResponse(request, id) then puts the
 * request's origin back, so links built from a request to the loopback server point at it.
 */

export const webhookPath = '/runtime/webhooks/durabletask';
export const rpcPath = '/durabletask/';

export interface ManagementUrls {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  rewindPostUri: string;
  purgeHistoryDeleteUri: string;
  restartPostUri: string;
  suspendPostUri: string;
  resumePostUri: string;
}

export interface DurableClientData {
  taskHubName: string;
  creationUrls: { createNewInstancePostUri: string; waitOnNewInstancePostUri: string };
  managementUrls: ManagementUrls;
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
  httpBaseUrl: string;
  maxGrpcMessageSizeInBytes: number;
  grpcHttpClientTimeout: string;
}

export const instanceIdPlaceholder = 'INSTANCEID';
const connectionName = 'Storage';
/** The Durable extension's system key: the webhook API (`code=`) accepts nothing else. */
export const systemKey = 'local-system-key';

export function managementUrlsFor(origin: string, hubName: string, instanceId: string): ManagementUrls {
  const base = `${origin}${webhookPath}/instances/${encodeURIComponent(instanceId)}`;
  const common = `taskHub=${hubName}&connection=${connectionName}&code=${systemKey}`;
  return {
    id: instanceId,
    statusQueryGetUri: `${base}?${common}`,
    sendEventPostUri: `${base}/raiseEvent/{eventName}?${common}`,
    terminatePostUri: `${base}/terminate?reason={text}&${common}`,
    rewindPostUri: `${base}/rewind?reason={text}&${common}`,
    purgeHistoryDeleteUri: `${base}?${common}`,
    restartPostUri: `${base}/restart?${common}`,
    suspendPostUri: `${base}/suspend?reason={text}&${common}`,
    resumePostUri: `${base}/resume?reason={text}&${common}`,
  };
}

export function durableClientData(origin: string, hubName: string): DurableClientData {
  const baseUrl = `${origin}${webhookPath}`;
  const managementUrls = managementUrlsFor(origin, hubName, instanceIdPlaceholder);
  return {
    taskHubName: hubName,
    creationUrls: {
      createNewInstancePostUri: `${baseUrl}/orchestrators/{functionName}[/{instanceId}]?code=${systemKey}`,
      waitOnNewInstancePostUri:
        `${baseUrl}/orchestrators/{functionName}[/{instanceId}]` +
        `?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=${systemKey}`,
    },
    managementUrls: { ...managementUrls, id: instanceIdPlaceholder },
    baseUrl,
    requiredQueryStringParameters: `code=${systemKey}`,
    rpcBaseUrl: `${origin}${rpcPath}`,
    httpBaseUrl: '',
    maxGrpcMessageSizeInBytes: 0,
    grpcHttpClientTimeout: '00:01:40',
  };
}
