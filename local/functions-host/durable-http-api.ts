/**
 * The Durable extension's HTTP API, served both at `rpcBaseUrl` (what `df.getClient` calls) and at
 * the public webhook path `/runtime/webhooks/durabletask`. Status codes follow the documented webhook
 * API: start 202; instance status 200 completed, 202 running, 400 failed/terminated (500 with
 * returnInternalServerErrorOnFailure), 404 unknown; raiseEvent/terminate 202, 404, 410 when finished;
 * entity signal 202, entity state 200 or 404.
 * Errors follow the extension's HttpApiHandler.HandleRequestAsync (a7c6d69): an ArgumentException
 * (bad instance id or entity key, unknown orchestrator) is 400 "One or more of the arguments
 * submitted is incorrect"; anything else, including OrchestrationAlreadyExistsException from a
 * start refused under NonRunningStates, is 500 "Something went wrong while processing your request".
 */
import { managementUrlsFor } from './client-binding';
import { type DurableEngine, InstanceExistsError, UnknownFunctionError } from './durable-engine';
import { InvalidInstanceIdError } from './instance-ids';
import type { InstanceQuery, RuntimeStatus } from './instance-store';

export interface ApiRequest {
  readonly method: string;
  /** Path segments after the API base, already URL-decoded. */
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  readonly headers: Record<string, string | undefined>;
  readonly body: string;
  /** Origin the caller used, for the links in start responses. */
  readonly origin: string;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** Serialized as JSON unless it is already a string marked as JSON text by `rawJson`. */
  readonly body?: unknown;
  readonly rawJson?: string;
}

const statuses: readonly RuntimeStatus[] = [
  'Pending',
  'Running',
  'Completed',
  'ContinuedAsNew',
  'Failed',
  'Canceled',
  'Terminated',
  'Suspended',
];

function parseBody(body: string): { json: string | undefined; value: unknown } {
  if (body.trim() === '') return { json: undefined, value: undefined };
  try {
    return { json: body, value: JSON.parse(body) };
  } catch {
    // Not JSON: treat the raw text as a string value.
    return { json: JSON.stringify(body), value: body };
  }
}

function queryOf(params: URLSearchParams): InstanceQuery {
  const query: InstanceQuery = {};
  const from = params.get('createdTimeFrom');
  const to = params.get('createdTimeTo');
  const statusList = params.get('runtimeStatus');
  const prefix = params.get('instanceIdPrefix');
  if (from) query.createdTimeFrom = new Date(from);
  if (to) query.createdTimeTo = new Date(to);
  if (statusList) {
    query.runtimeStatus = statusList
      .split(',')
      .map((s) => s.trim())
      .filter((s): s is RuntimeStatus => (statuses as readonly string[]).includes(s));
  }
  if (prefix) query.instanceIdPrefix = prefix;
  return query;
}

const notFound: ApiResponse = { status: 404, body: { message: 'Not found.' } };

/** The extension's error answer: HttpError with the exception's message and type (.NET names). */
function errorResponse(err: unknown): ApiResponse {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof InvalidInstanceIdError || err instanceof UnknownFunctionError) {
    const body = {
      Message: 'One or more of the arguments submitted is incorrect',
      ExceptionMessage: message,
      ExceptionType: 'System.ArgumentException',
    };
    return { status: 400, body };
  }
  const exceptionType =
    err instanceof InstanceExistsError
      ? 'DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException'
      : 'System.Exception';
  const body = {
    Message: 'Something went wrong while processing your request',
    ExceptionMessage: message,
    ExceptionType: exceptionType,
  };
  return { status: 500, body };
}

export class DurableHttpApi {
  constructor(
    private readonly engine: DurableEngine,
    private readonly hubName: string,
  ) {}

  handle(request: ApiRequest): ApiResponse {
    const [area, ...rest] = request.segments;
    try {
      if (area === 'orchestrators' && request.method === 'POST') return this.start(request, rest);
      if (area === 'instances') return this.instances(request, rest);
      if (area === 'entities') return this.entities(request, rest);
      return notFound;
    } catch (err) {
      return errorResponse(err);
    }
  }

  /** Route `orchestrators/{functionName}/{instanceId?}`: more segments match no route (404). */
  private start(request: ApiRequest, [name, instanceId, ...extra]: readonly string[]): ApiResponse {
    if (name === undefined || name === '' || extra.length > 0) return notFound;
    const { json } = parseBody(request.body);
    const id = this.engine.startNew(name, { instanceId: instanceId || undefined, inputJson: json });
    const payload = managementUrlsFor(request.origin, this.hubName, id);
    return {
      status: 202,
      headers: { location: payload.statusQueryGetUri, 'retry-after': '10' },
      body: payload,
    };
  }

  private instances(request: ApiRequest, [instanceId, action, eventName]: readonly string[]): ApiResponse {
    const { method, query } = request;
    if (instanceId === undefined || instanceId === '') {
      if (method === 'GET') return this.list(request);
      if (method === 'DELETE') {
        const deleted = this.engine.purgeBy(queryOf(query));
        return deleted === 0 ? notFound : { status: 200, body: { instancesDeleted: deleted } };
      }
      return notFound;
    }
    if (action === undefined) {
      if (method === 'GET') return this.status(instanceId, query);
      if (method === 'DELETE') {
        return this.engine.purge(instanceId) ? { status: 200, body: { instancesDeleted: 1 } } : notFound;
      }
      return notFound;
    }
    if (method !== 'POST') return notFound;
    if (action === 'raiseEvent' && eventName !== undefined) {
      return this.clientResult(this.engine.raiseEvent(instanceId, eventName, parseBody(request.body).value));
    }
    if (action === 'terminate') {
      return this.clientResult(this.engine.terminate(instanceId, query.get('reason') ?? undefined));
    }
    return { status: 501, body: { message: `${action} is not supported by the local Functions host.` } };
  }

  private clientResult(result: 'accepted' | 'notFound' | 'gone'): ApiResponse {
    if (result === 'accepted') return { status: 202 };
    if (result === 'gone') return { status: 410, body: { message: 'The instance is no longer running.' } };
    return notFound;
  }

  private status(instanceId: string, query: URLSearchParams): ApiResponse {
    const status = this.engine.getStatus(instanceId, {
      showHistory: query.get('showHistory') === 'true',
      showInput: query.get('showInput') !== 'false',
    });
    if (status === undefined) return notFound;
    let code = 202;
    if (status.runtimeStatus === 'Completed') code = 200;
    if (status.runtimeStatus === 'Failed' || status.runtimeStatus === 'Terminated') {
      code = query.get('returnInternalServerErrorOnFailure') === 'true' ? 500 : 400;
    }
    return { status: code, body: status };
  }

  private list(request: ApiRequest): ApiResponse {
    const all = this.engine.listInstances(queryOf(request.query));
    const top = Number(request.query.get('top') ?? '0');
    if (!(top > 0)) return { status: 200, body: all };
    const token = request.headers['x-ms-continuation-token'];
    const start = token ? Number(Buffer.from(token, 'base64').toString('utf8')) || 0 : 0;
    const page = all.slice(start, start + top);
    const headers: Record<string, string> = {};
    if (start + top < all.length)
      headers['x-ms-continuation-token'] = Buffer.from(String(start + top)).toString('base64');
    return { status: 200, headers, body: page };
  }

  /** Route `entities/{entityName}/{entityKey?}`: more segments match no route (404). */
  private entities(request: ApiRequest, [name, key, ...extra]: readonly string[]): ApiResponse {
    if (name === undefined || key === undefined || extra.length > 0) return notFound;
    if (request.method === 'POST') {
      const operation = request.query.get('op');
      if (!operation) return { status: 400, body: { message: 'The op query parameter is required.' } };
      this.engine.signalEntity(name, key, operation, parseBody(request.body).json);
      return { status: 202 };
    }
    if (request.method === 'GET') {
      const state = this.engine.readEntityState(name, key);
      return state.stateJson === undefined ? notFound : { status: 200, rawJson: state.stateJson };
    }
    return notFound;
  }
}
