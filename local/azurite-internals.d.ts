// Minimal types for the Azurite 3.35 internals that local/azurite.ts starts in-process.
// Azurite ships no types and no public API; only what we call is declared here, with the
// positional constructor arguments named as in dist/src/{blob,table}/*Configuration.js.

declare module 'azurite/dist/src/common/persistence/MemoryExtentStore' {
  export class MemoryExtentChunkStore {
    constructor(sizeLimit?: number);
  }
}

declare module 'azurite/dist/src/common/ServerBase' {
  import type { Server } from 'node:http';

  export default abstract class ServerBase {
    readonly host: string;
    readonly port: number;
    /** The http.Server wrapped by `stoppable`; `close()` calls its `stop()` without awaiting it. */
    readonly httpServer: Server;
    /** `http://HOST:PORT` once listening, '' before. */
    getHttpServerAddress(): string;
    start(): Promise<void>;
    close(): Promise<void>;
  }
}

declare module 'azurite/dist/src/blob/BlobConfiguration' {
  import type { Writable } from 'node:stream';
  import type { MemoryExtentChunkStore } from 'azurite/dist/src/common/persistence/MemoryExtentStore';

  export default class BlobConfiguration {
    constructor(
      host?: string,
      port?: number,
      keepAliveTimeout?: number,
      metadataDBPath?: string,
      extentDBPath?: string,
      persistencePathArray?: unknown[],
      enableAccessLog?: boolean,
      accessLogWriteStream?: Writable,
      enableDebugLog?: boolean,
      debugLogFilePath?: string,
      loose?: boolean,
      skipApiVersionCheck?: boolean,
      cert?: string,
      key?: string,
      pwd?: string,
      oauth?: string,
      disableProductStyleUrl?: boolean,
      isMemoryPersistence?: boolean,
      memoryStore?: MemoryExtentChunkStore,
    );
  }
}

declare module 'azurite/dist/src/blob/BlobServer' {
  import type BlobConfiguration from 'azurite/dist/src/blob/BlobConfiguration';
  import ServerBase from 'azurite/dist/src/common/ServerBase';

  export default class BlobServer extends ServerBase {
    constructor(configuration?: BlobConfiguration);
    /** Frees deleted blobs' data; reads gcIntervalInMS after each sweep. */
    readonly gcManager?: { gcIntervalInMS: number };
  }
}

declare module 'azurite/dist/src/table/TableConfiguration' {
  import type { Writable } from 'node:stream';

  export default class TableConfiguration {
    constructor(
      host?: string,
      port?: number,
      keepAliveTimeout?: number,
      metadataDBPath?: string,
      enableDebugLog?: boolean,
      enableAccessLog?: boolean,
      accessLogWriteStream?: Writable,
      debugLogFilePath?: string,
      loose?: boolean,
      skipApiVersionCheck?: boolean,
      cert?: string,
      key?: string,
      pwd?: string,
      oauth?: string,
      disableProductStyleUrl?: boolean,
      isMemoryPersistence?: boolean,
    );
  }
}

declare module 'azurite/dist/src/table/TableServer' {
  import ServerBase from 'azurite/dist/src/common/ServerBase';
  import type TableConfiguration from 'azurite/dist/src/table/TableConfiguration';

  export default class TableServer extends ServerBase {
    constructor(configuration?: TableConfiguration);
  }
}
