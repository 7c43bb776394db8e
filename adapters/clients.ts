import { TableClient } from '@azure/data-tables';
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import type { Connection } from './config';

let credential: DefaultAzureCredential | undefined;

/** The worker's one DefaultAzureCredential (the managed identity on Azure); it caches its tokens. */
export function azureCredential(): DefaultAzureCredential {
  credential ??= new DefaultAzureCredential();
  return credential;
}
const identity = azureCredential;

const blobClients = new Map<string, BlobServiceClient>();

/** One BlobServiceClient per connection per worker (clients hold connection pools). */
export function blobService(connection: Connection): BlobServiceClient {
  const key = connection.kind === 'connection-string' ? connection.connectionString : connection.endpoint;
  let client = blobClients.get(key);
  if (!client) {
    client =
      connection.kind === 'connection-string'
        ? BlobServiceClient.fromConnectionString(connection.connectionString)
        : new BlobServiceClient(connection.endpoint, identity());
    blobClients.set(key, client);
  }
  return client;
}

/** The table endpoint of an identity-based storage connection (`https://<account>.table.core.windows.net`). */
export function tableEndpoint(connection: Connection & { readonly kind: 'identity' }): string {
  return connection.endpoint.replace('.blob.', '.table.');
}

/** A table in the host storage account (identity: the account's table endpoint). */
export function tableClient(connection: Connection, table: string): TableClient {
  if (connection.kind === 'connection-string') {
    const insecure = /(?:^|;)(?:TableEndpoint|BlobEndpoint)=http:\/\//i.test(connection.connectionString);
    return TableClient.fromConnectionString(connection.connectionString, table, {
      allowInsecureConnection: insecure,
    });
  }
  return new TableClient(tableEndpoint(connection), table, identity());
}

/** Drops cached clients (tests that restart the offline stack). */
export function resetClients(): void {
  blobClients.clear();
}
