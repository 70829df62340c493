import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A process of the test environment: what it is, how to find its log, how to stop it. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
}

export class ComponentStartError extends Error {
  constructor(component: string, reason: string, logFile?: string) {
    const tail = logFile ? `\n--- last lines of ${logFile} ---\n${tailOf(logFile, 30)}` : '';
    super(
      `test environment: ${component} did not start: ${reason}${logFile ? ` (log: ${logFile})` : ''}${tail}`,
    );
    this.name = 'ComponentStartError';
  }
}

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(log not readable)';
  }
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Starts a long-running component detached from this process (so it outlives a test run started
 * by `npm run env up`), with stdout and stderr appended to its own log file.
 */
export function startProcess(options: StartOptions): ManagedProcess & { child: ChildProcess } {
  const out = openSync(options.logFile, 'a');
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', out, out],
    detached: true,
  });
  if (child.pid === undefined) {
    throw new ComponentStartError(options.name, `could not spawn ${options.command}`, options.logFile);
  }
  child.unref();
  return { name: options.name, pid: child.pid, logFile: options.logFile, child };
}

/** Only what env.json records of a process: the ChildProcess handle and extras must not be serialized. */
export function managed({ name, pid, logFile }: ManagedProcess): ManagedProcess {
  return { name, pid, logFile };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a process we started, by its process id: SIGTERM, then SIGKILL after a grace period. */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Polls `probe` until it resolves true, or fails with the component's log attached. */
export async function waitFor(
  proc: ManagedProcess,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(proc.pid)) {
      throw new ComponentStartError(proc.name, `the process exited while waiting for ${what}`, proc.logFile);
    }
    try {
      if (await probe()) return;
    } catch {
      // not ready yet
    }
    await sleep(200);
  }
  throw new ComponentStartError(
    proc.name,
    `timed out after ${timeoutMs} ms waiting for ${what}`,
    proc.logFile,
  );
}

/** True when something accepts TCP connections on the loopback port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Runs a short command to completion and returns its stdout; the error carries stderr. */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const e = error as Error & { stderr?: string; stdout?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}
