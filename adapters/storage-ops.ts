/**
 * Storage operations the app itself issues, by kind, per worker: what one processed block costs in
 * requests (docs/benchmarks.md, docs/capacity.md). Durable's own queue and table traffic is not here.
 */
export const storageOps = {
  blockList: 0,
  rangedRead: 0,
  stagingWrite: 0,
  stagingRead: 0,
  stagingDelete: 0,
  list: 0,
  tableWrite: 0,
  tableRead: 0,
};

export type StorageOp = keyof typeof storageOps;

export function countStorageOp(op: StorageOp, n = 1): void {
  storageOps[op] += n;
}

export function totalStorageOps(): number {
  return Object.values(storageOps).reduce((a, b) => a + b, 0);
}

export function resetStorageOps(): void {
  for (const k of Object.keys(storageOps) as StorageOp[]) storageOps[k] = 0;
}
