import * as df from 'durable-functions';
import { names } from './names';

/** A counter entity: add / get / reset / delete, plus addAndMirror which signals a second counter. */
df.app.entity(names.counter, (context: df.EntityContext<number>) => {
  const value = context.df.getState(() => 0) ?? 0;
  switch (context.df.operationName) {
    case 'add': {
      const next = value + Number(context.df.getInput());
      context.df.setState(next);
      context.df.return(next);
      return;
    }
    case 'addAndMirror': {
      const amount = Number(context.df.getInput());
      context.df.setState(value + amount);
      context.df.signalEntity(
        new df.EntityId(names.counter, `${context.df.entityKey}-mirror`),
        'add',
        amount,
      );
      return;
    }
    case 'get':
      context.df.return(value);
      return;
    case 'reset':
      context.df.setState(0);
      return;
    case 'delete':
      context.df.destructOnExit();
      return;
    default:
      throw new Error(`Unknown operation ${context.df.operationName}`);
  }
});
