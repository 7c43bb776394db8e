import * as df from 'durable-functions';
import { sdkNames } from './names';

/** Keeps the last string set; `set` returns nothing (the reference answer carries no result). */
df.app.entity(sdkNames.stringStore, (context: df.EntityContext<string>) => {
  if (context.df.operationName === 'set') context.df.setState(String(context.df.getInput()));
  else if (context.df.operationName === 'get') context.df.return(context.df.getState(() => '') ?? '');
  else throw new Error(`Unknown operation ${context.df.operationName}`);
});

/** Adds its input to a number. */
df.app.entity(sdkNames.counter, (context: df.EntityContext<number>) => {
  const value = context.df.getState(() => 0) ?? 0;
  if (context.df.operationName !== 'add') throw new Error(`Unknown operation ${context.df.operationName}`);
  context.df.setState(value + Number(context.df.getInput()));
});
