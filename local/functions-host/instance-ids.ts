/**
 * The instance-id rules of the Durable extension's client (Azure/azure-functions-durable-extension,
 * src/WebJobs.Extensions.DurableTask/ContextImplementations/DurableClient.cs at a7c6d69,
 * StartNewAsync and SignalEntityAsyncInternal): no `@` at the start, none of `/ \ # ?` or control
 * characters, and a length limit. An empty id is not an error there: it means "generate one".
 * The extension checks 256 characters; the Durable docs promise only 100 (the limit of the MSSQL
 * and Durable Task Scheduler backends), which is the host's default. See README.md.
 */

/** The limit the Durable docs state for every backend ("Orchestration identity"). */
export const documentedMaxInstanceIdLength = 100;

/** What the extension throws for a bad id: ArgumentException, answered 400 by its HTTP API. */
export class InvalidInstanceIdError extends Error {
  override readonly name = 'InvalidInstanceIdError';
}

/** .NET's char.IsControl: C0 controls, DEL and C1 controls. */
function isControl(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

function hasInvalidCharacter(id: string): boolean {
  for (const char of id) {
    if (char === '/' || char === '\\' || char === '#' || char === '?') return true;
    if (isControl(char.charCodeAt(0))) return true;
  }
  return false;
}

// The extension passes its text as ArgumentException's paramName (the arguments are swapped), so
// .NET's message reads "instanceId (Parameter '...')"; the host keeps that wording.
const startsWithAt = "instanceId (Parameter 'Orchestration instance ids must not start with @.')";
const invalidCharacters =
  "instanceId (Parameter 'Orchestration instance ids must not contain /, \\, #, ?, or control characters.')";
const invalidEntityKey =
  "entityKey (Parameter 'Entity keys must not contain /, \\, #, ?, or control characters.')";

/** Throws InvalidInstanceIdError unless `id` is a valid orchestration instance id. */
export function checkInstanceId(id: string, maxLength: number): void {
  if (id.startsWith('@')) throw new InvalidInstanceIdError(startsWithAt);
  if (hasInvalidCharacter(id)) throw new InvalidInstanceIdError(invalidCharacters);
  if (id.length > maxLength) {
    throw new InvalidInstanceIdError(`Instance ID lengths must not exceed ${maxLength} characters.`);
  }
}

/** Throws InvalidInstanceIdError unless `key` is a valid entity key for a client signal. */
export function checkEntityKey(key: string): void {
  if (hasInvalidCharacter(key)) throw new InvalidInstanceIdError(invalidEntityKey);
}
