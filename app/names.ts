/** Registered function names: one place, used by registrations, callers and tests. */
export const names = {
  blobCreated: 'blobCreated',
  sweep: 'sweep',
  blobStateEntity: 'blobState',
  processBlob: 'processBlob',
  planBlobRead: 'planBlobRead',
  parseChunk: 'parseChunk',
  enrichChunk: 'enrichChunk',
  emitChunk: 'emitChunk',
  recordBlobStatus: 'recordBlobStatus',
  rerunBlob: 'rerunBlob',
  replayRange: 'replayRange',
  rerunFailed: 'rerunFailed',
  getBlob: 'getBlob',
  listBlobs: 'listBlobs',
} as const;

/** Entity operations of blobState. */
export const blobOps = {
  observe: 'observe',
  beginRun: 'beginRun',
  commit: 'commit',
  fail: 'fail',
  newGeneration: 'newGeneration',
  rerun: 'rerun',
  get: 'get',
  forget: 'forget',
} as const;
