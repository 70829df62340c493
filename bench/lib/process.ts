import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** One run of a command: wall and CPU time, peak resident set, output. */
export interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  /** User + system CPU of the process (all its threads), sampled until it exits. */
  readonly cpuSeconds: number;
  readonly peakRssKiB: number;
}

const CLOCK_TICKS = 100;

function cpuOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

function hwmOf(pid: number): number | undefined {
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return hwm ? Number(hwm[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a command and samples its CPU time and peak RSS (VmHWM) from /proc every 20 ms until it exits:
 * the last sample misses at most the final 20 ms of CPU.
 */
export function measure(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peakRssKiB = 0;
    let cpuSeconds = 0;
    const sample = () => {
      if (child.pid === undefined) return;
      const hwm = hwmOf(child.pid);
      if (hwm !== undefined) peakRssKiB = Math.max(peakRssKiB, hwm);
      const cpu = cpuOf(child.pid);
      if (cpu !== undefined) cpuSeconds = Math.max(cpuSeconds, cpu);
    };
    const timer = setInterval(sample, 20);
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    // 'exit' fires before the zombie is reaped only in theory: sample once more, then stop.
    child.on('exit', sample);
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({
        code,
        stdout,
        stderr,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        cpuSeconds,
        peakRssKiB,
      });
    });
  });
}

export function mustSucceed(what: string, result: ProcessResult): ProcessResult {
  if (result.code !== 0) {
    throw new Error(
      `${what} failed (exit ${result.code}):\n${result.stderr.slice(-4000)}\n${result.stdout.slice(-2000)}`,
    );
  }
  return result;
}
