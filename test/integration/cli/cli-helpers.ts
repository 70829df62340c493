import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { CLI_BUNDLE } from '../../../scripts/bundle-cli.ts';
import { need } from '../../env/fixture.ts';
import { cgroupCommand } from '../../env/memory-cgroup.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');

/**
 * `kafka-backup` as the package's bin and the image start it: the bundled CLI (build/cli/), which
 * the tests' global setup bundles afresh from runtime/, under Node 24.
 */
export function cliCommand(args: readonly string[]): [string, string[]] {
  return [NODE, [CLI_BUNDLE, ...args]];
}

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `kafka-backup` as a child process the way a user would (Node 24, the package's bin), in the
 * memory cgroup `cgroupDir` when given (test/env/memory-cgroup.ts).
 */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  cgroupDir?: string,
): Promise<CliRun> {
  const [node, argv] = cliCommand(args);
  const [command, commandArgs] = cgroupDir ? cgroupCommand(cgroupDir, node, argv) : [node, argv];
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * Starts the CLI and SIGKILLs it `delayMs` after `when(stderr)` first holds (checked on every log
 * line), to interrupt it mid-run like a crashed pod.
 */
export function runCliAndKill(
  args: readonly string[],
  when: (stderr: string) => boolean,
  env: Record<string, string> = {},
  delayMs = 0,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(...cliCommand(args), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!killed && when(stderr)) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A running `kafka-backup` process: its output so far, a way to kill it, and its end. */
export interface StartedCli {
  readonly pid: number;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
  readonly done: Promise<CliRun>;
  /** Resolves once `when(stderr)` holds (checked on every chunk of stderr); rejects if the process ends first. */
  until(when: (stderr: string) => boolean): Promise<void>;
}

export function startCli(args: readonly string[], env: Record<string, string> = {}): StartedCli {
  const child = spawn(...cliCommand(args), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { when: (s: string) => boolean; resolve: () => void }[] = [];
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
    for (const w of [...waiters]) {
      if (w.when(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    pid: child.pid as number,
    stderr: () => stderr,
    kill: (signal) => {
      child.kill(signal);
    },
    done,
    until: (when) =>
      when(stderr)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ when, resolve });
            done.then((run) =>
              reject(
                new Error(
                  `the CLI ended (exit ${run.code}, ${run.signal}) before the awaited output:\n${run.stderr}`,
                ),
              ),
            );
          }),
  };
}

/** A scratch directory with a config writer and a secrets directory (mounted-secret layout). */
export async function workspace(): Promise<{
  dir: string;
  secretsDir: string;
  writeConfig: (name: string, config: unknown) => Promise<string>;
  writeSecret: (secret: string, key: string, value: string) => Promise<void>;
  cleanup: () => Promise<void>;
}> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cli-test-'));
  const secretsDir = path.join(dir, 'secrets');
  return {
    dir,
    secretsDir,
    writeConfig: async (name, config) => {
      const file = path.join(dir, name);
      await writeFile(file, stringify(config));
      return file;
    },
    writeSecret: async (secret, key, value) => {
      await mkdir(path.join(secretsDir, secret), { recursive: true });
      await writeFile(path.join(secretsDir, secret, key), value);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export type Workspace = Awaited<ReturnType<typeof workspace>>;

/**
 * The source cluster's CA as the mounted Secret `kafka-ca`, and its first SCRAM user as the Secret
 * `secret` (username, password), in the workspace's secrets directory: that user.
 */
export async function writeSourceSaslSecrets(
  ws: Workspace,
  secret: string,
): Promise<{ readonly username: string; readonly password: string }> {
  const kafka = need('kafka');
  const user = kafka.source.saslSsl.users[0];
  if (!user) throw new Error('the test environment has no SCRAM user on the source cluster');
  await ws.writeSecret('kafka-ca', 'ca.crt', await readFile(kafka.source.saslSsl.caFile, 'utf8'));
  await ws.writeSecret(secret, 'username', user.username);
  await ws.writeSecret(secret, 'password', user.password);
  return user;
}

export function parseJsonOutput(run: CliRun): Record<string, unknown> {
  try {
    return JSON.parse(run.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(
      `the CLI did not print JSON (exit ${run.code}):\nstdout: ${run.stdout}\nstderr: ${run.stderr}`,
    );
  }
}
