import { UsageError } from './args';
import { LIVE_USAGE, runLive } from './commands/live';
import { LOOKUP_USAGE, runLookup } from './commands/lookup';
import { PROCESS_USAGE, runProcess } from './commands/process';
import { REPLAY_USAGE, runReplay } from './commands/replay';
import { runSimulate, SIMULATE_USAGE } from './commands/simulate';

type Command = { run: (argv: readonly string[]) => Promise<number>; usage: string; summary: string };

const COMMANDS: Record<string, Command> = {
  process: {
    run: runProcess,
    usage: PROCESS_USAGE,
    summary: 'summarize flow-log files into enriched NDJSON',
  },
  lookup: { run: runLookup, usage: LOOKUP_USAGE, summary: 'everything the app knows about IP addresses' },
  simulate: { run: runSimulate, usage: SIMULATE_USAGE, summary: 'write realistic simulated flow-log blobs' },
  replay: {
    run: runReplay,
    usage: REPLAY_USAGE,
    summary: 'run the whole app offline over files, as Azure would deliver them',
  },
  live: {
    run: runLive,
    usage: LIVE_USAGE,
    summary: 'run the whole app offline on live traffic, with a terminal view (npm start)',
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
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`flowlog: unknown command "${name}"\n\n${mainUsage()}\n`);
    return 2;
  }
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
