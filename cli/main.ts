import { UsageError } from './args';

type Loaded = { run: (argv: readonly string[]) => Promise<number>; usage: string };
type Command = { summary: string; load: () => Loaded };

/**
 * Commands are loaded when run, not at start-up: `replay` and `live` bring the whole Functions app,
 * the Azure SDKs and the local host with them (hundreds of milliseconds of module loading), which
 * `process` and `lookup` must not pay for.
 */
const COMMANDS: Record<string, Command> = {
  process: {
    summary: 'summarize flow-log files into enriched NDJSON',
    load: () => {
      const m = require('./commands/process') as typeof import('./commands/process');
      return { run: m.runProcess, usage: m.PROCESS_USAGE };
    },
  },
  lookup: {
    summary: 'everything the app knows about IP addresses',
    load: () => {
      const m = require('./commands/lookup') as typeof import('./commands/lookup');
      return { run: m.runLookup, usage: m.LOOKUP_USAGE };
    },
  },
  simulate: {
    summary: 'write realistic simulated flow-log blobs',
    load: () => {
      const m = require('./commands/simulate') as typeof import('./commands/simulate');
      return { run: m.runSimulate, usage: m.SIMULATE_USAGE };
    },
  },
  'blob-id': {
    summary: "the 16-hex id a blob's rows carry in their blob field",
    load: () => {
      const m = require('./commands/blob-id') as typeof import('./commands/blob-id');
      return { run: m.runBlobId, usage: m.BLOB_ID_USAGE };
    },
  },
  report: {
    summary: 'the dashboard as one self-contained HTML page, from flow logs or summaries',
    load: () => {
      const m = require('./commands/report') as typeof import('./commands/report');
      return { run: m.runReport, usage: m.REPORT_USAGE };
    },
  },
  replay: {
    summary: 'run the whole app offline over files, as Azure would deliver them',
    load: () => {
      const m = require('./commands/replay') as typeof import('./commands/replay');
      return { run: m.runReplay, usage: m.REPLAY_USAGE };
    },
  },
  live: {
    summary: 'run the whole app offline on live traffic, with a terminal view (npm start)',
    load: () => {
      const m = require('./commands/live') as typeof import('./commands/live');
      return { run: m.runLive, usage: m.LIVE_USAGE };
    },
  },
};

export function mainUsage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: flowlog <command> [options]

Commands:
${lines.join('\n')}

Run "flowlog <command> --help" for a command's options.
Exit codes: 0 success; 1 some input failed (see stderr); 2 usage error (or, for process and lookup,
enrichment data missing or unreadable); 3 internal error.`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${mainUsage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`flowlog: unknown command "${name}"\n\n${mainUsage()}\n`);
    return 2;
  }
  const command = entry.load();
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`flowlog ${name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    process.stderr.write(`flowlog ${name}: ${(error as Error).stack ?? String(error)}\n`);
    return 3;
  }
}

/** Benchmarks read the CLI's own resource usage (peak RSS, CPU) from this file at exit. */
const resourceReport = process.env.FLOWLOG_RESOURCE_REPORT;
if (resourceReport) {
  process.on('exit', () => {
    require('node:fs').writeFileSync(resourceReport, JSON.stringify(process.resourceUsage()));
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`flowlog: ${String(error)}\n`);
      process.exitCode = 3;
    },
  );
}
