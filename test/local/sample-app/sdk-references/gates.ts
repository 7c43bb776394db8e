/**
 * Gates a test can close to hold an activity execution until it opens them: a way to make a task's
 * result arrive after the orchestration has moved on, without depending on timing.
 */
const closed = new Map<string, { promise: Promise<void>; open: () => void }>();

export function closeGate(name: string): void {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  closed.set(name, { promise, open });
}

export function openGate(name: string): void {
  closed.get(name)?.open();
  closed.delete(name);
}

/** Resolves at once unless the gate is closed. */
export function passGate(name: string): Promise<void> {
  return closed.get(name)?.promise ?? Promise.resolve();
}
