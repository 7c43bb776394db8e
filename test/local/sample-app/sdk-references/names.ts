/**
 * Names of the orchestrations, activities and entities that reproduce the shapes of durable-functions'
 * own orchestrator tests (test/testobjects/TestOrchestrations.ts of Azure/azure-functions-durable-js),
 * so the local host's histories can be compared with that repository's reference histories.
 */
export const sdkNames = {
  helloRetryFanOut: 'SayHelloWithActivityRetryFanout',
  helloRetry: 'SayHelloWithActivityRetry',
  diskUsage: 'FanOutFanInDiskUsage',
  diskUsageCaught: 'FanOutFanInDiskUsageCaught',
  callEntitySet: 'CallEntitySet',
  signalEntity: 'SignalEntity',
  continueAsNewCounter: 'ContinueAsNewCounter',
  waitOnTimer: 'WaitOnTimer',
  helloSubOrchestrator: 'SayHelloWithSubOrchestrator',
  helloSubOrchestratorRetry: 'SayHelloWithSubOrchestratorRetry',
  subOrchestratorsNoIds: 'MultipleSubOrchestratorNoSubId',
  helloInline: 'SayHelloInline',
  helloWithActivity: 'SayHelloWithActivity',
  hello: 'Hello',
  getFileList: 'GetFileList',
  getFileSize: 'GetFileSize',
  stringStore: 'StringStore2',
  counter: 'Counter',
} as const;

/** The files GetFileList returns; GetFileSize answers the digit in the name (file2.png → 2). */
export const diskFiles = ['file1.txt', 'file2.png', 'file3.csx'] as const;

/** ContinueAsNewCounter continues as new until its counter reaches this value, then returns it. */
export const continueAsNewLimit = 8;

export interface SignalEntityInput {
  id: string;
  entityName: string;
  operationName: string;
  operationArgument: unknown;
}

/** What SayHelloWithActivityRetry returns: the greeting or the final error, and the orchestration time. */
export interface HelloRetryOutput {
  greeting: string | null;
  error: string | null;
  before: string;
  after: string;
}

/** What FanOutFanInDiskUsageCaught returns after its fan-out failed. */
export interface CaughtFanOutOutput {
  caught: string;
  after: number;
}
