/**
 * Invokes a captured function exactly the way the Node worker does: ask the programming model for an
 * invocation model, then `getArguments()` → pre-invocation hooks → `invokeFunction()` → post-invocation
 * hooks → `getResponse()`. Everything the app sees (InvocationContext, HttpRequest, extraInputs,
 * `$return` conversion) is therefore produced by the real `@azure/functions` code.
 */
import { randomUUID } from 'node:crypto';
import { type CapturedHook, type CapturedRegistration, programmingModel } from './core-shim';
import type {
  CoreInvocationContext,
  RpcBindingInfo,
  RpcInvocationResponse,
  RpcLogCategory,
  RpcLogLevel,
  RpcParameterBinding,
  RpcTypedData,
} from './rpc-types';

export interface LogRecord {
  readonly time: Date;
  readonly functionName: string;
  readonly invocationId: string;
  readonly level: RpcLogLevel;
  readonly category: RpcLogCategory;
  readonly message: string;
}

export interface InvocationRequest {
  readonly inputData: RpcParameterBinding[];
  readonly triggerMetadata?: Record<string, RpcTypedData>;
}

export function isTriggerType(type: unknown): boolean {
  return typeof type === 'string' && /trigger$/i.test(type);
}

/** The trigger binding of a function: its name in `bindings` and its info. */
export function triggerOf(registration: CapturedRegistration): { name: string; binding: RpcBindingInfo } {
  for (const [name, binding] of Object.entries(registration.metadata.bindings)) {
    if (isTriggerType(binding.type)) return { name, binding };
  }
  throw new Error(`Function "${registration.metadata.name}" has no trigger binding.`);
}

export class FunctionInvoker {
  constructor(
    private readonly hooks: () => readonly CapturedHook[],
    private readonly onLog: (record: LogRecord) => void,
  ) {}

  async invoke(
    registration: CapturedRegistration,
    request: InvocationRequest,
  ): Promise<RpcInvocationResponse> {
    const model = programmingModel();
    if (model === undefined) throw new Error('No programming model was set: was "@azure/functions" loaded?');
    const functionName = registration.metadata.name;
    const invocationId = randomUUID();
    const coreCtx: CoreInvocationContext = {
      invocationId,
      request: {
        invocationId,
        functionId: functionName,
        inputData: request.inputData,
        triggerMetadata: request.triggerMetadata ?? {},
      },
      metadata: registration.metadata,
      state: 'preInvocationHooks',
      log: (level, category, message) =>
        this.onLog({ time: new Date(), functionName, invocationId, level, category, message }),
    };
    const invocationModel = model.getInvocationModel(coreCtx);
    const { context, inputs } = await invocationModel.getArguments();
    const hookData: Record<string, unknown> = {};
    const pre: Record<string, unknown> = {
      invocationContext: context,
      inputs,
      functionCallback: registration.callback,
      hookData,
    };
    await this.runHooks('preInvocation', pre);
    coreCtx.state = 'invocation';
    let result: unknown;
    let error: unknown;
    try {
      const callback = pre['functionCallback'] as CapturedRegistration['callback'];
      result = await invocationModel.invokeFunction(context, pre['inputs'] as unknown[], callback);
    } catch (err) {
      error = err ?? new Error('The function threw a nullish value.');
    }
    coreCtx.state = 'postInvocationHooks';
    const post: Record<string, unknown> = { invocationContext: context, inputs, result, error, hookData };
    await this.runHooks('postInvocation', post);
    // Like the worker: a post-invocation hook may clear or replace the error.
    if (post['error'] !== undefined && post['error'] !== null) throw post['error'];
    return invocationModel.getResponse(context, post['result']);
  }

  async runHooks(name: string, context: Record<string, unknown>): Promise<void> {
    for (const hook of this.hooks()) {
      if (hook.name === name && !hook.disposed) await hook.callback(context);
    }
  }
}
