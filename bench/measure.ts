import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface RunMeasure {
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly maxRssMiB: number;
  readonly exitCode: number | null;
  readonly stderr: string;
}

/** Runs a node script as a child and reads its own resource report (peak RSS, CPU) at exit. */
export async function measureNode(
  args: readonly string[],
  workDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<RunMeasure> {
  const report = join(workDir, `usage-${process.pid}-${Date.now()}.json`);
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...args], {
    env: { ...process.env, ...env, FLOWLOG_RESOURCE_REPORT: report },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (!existsSync(report)) throw new Error(`child wrote no resource report (exit ${exitCode}): ${stderr}`);
  const usage = JSON.parse(readFileSync(report, 'utf8')) as NodeJS.ResourceUsage;
  rmSync(report);
  return {
    wallSeconds,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    maxRssMiB: usage.maxRSS / 1024,
    exitCode,
    stderr,
  };
}

export const fmt = (n: number, digits = 2) => n.toFixed(digits);
