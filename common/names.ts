/** Registered function names: one place, used by registrations, callers and tests. */
export const names = {
  blobCreated: 'blobCreated',
  sweep: 'sweep',
  refreshTopology: 'refreshTopology',
  refreshServiceTags: 'refreshServiceTags',
  refreshThreatFeeds: 'refreshThreatFeeds',
  blobStateEntity: 'blobState',
  processBlob: 'processBlob',
  planBlobRead: 'planBlobRead',
  parseChunk: 'parseChunk',
  emitChunk: 'emitChunk',
  recordBlobStatus: 'recordBlobStatus',
  bulkRerun: 'bulkRerun',
  listBulkTargets: 'listBulkTargets',
  readBulkTargets: 'readBulkTargets',
  getJob: 'getJob',
  rerunBlob: 'rerunBlob',
  replayRange: 'replayRange',
  rerunFailed: 'rerunFailed',
  getBlob: 'getBlob',
  listBlobs: 'listBlobs',
  listHours: 'listHours',
} as const;

/** Entity operations of blobState. */
export const blobOps = {
  /** Every event, sweep poke and operator rerun: record the observation, maybe become the blob's run. */
  claim: 'claim',
  /** A later round (after continueAsNew) of the run holding the token. */
  beginRound: 'beginRound',
  commit: 'commit',
  fail: 'fail',
  newGeneration: 'newGeneration',
  /** The sweep: the blob's hour and grace are over and it was read to its end; mark it complete, no run. */
  settleHour: 'settleHour',
  get: 'get',
  forget: 'forget',
} as const;

/**
 * The ADX tables and ingestion mappings the emitter routes events to (event properties `Table` and
 * `IngestionMappingReference`, docs/azure-reference §7.1): summary rows and flow-group lines. The ADX
 * scripts and the Bicep template use the same names (deploy/generate/names.ts).
 */
export const adxRouting = {
  rows: { table: 'FlowSummaries', mapping: 'FlowSummariesMapping' },
  groups: { table: 'FlowGroups', mapping: 'FlowGroupsMapping' },
} as const;
