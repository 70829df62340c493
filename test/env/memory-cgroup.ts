import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A memory cgroup of `mib` for a process to start in, as a Pod's `resources.limits.memory` confines
 * a container: Node then sizes its heap after the limit, process.availableMemory() reads it, and
 * the kernel enforces it. cgroup v2 or v1 (the memory hierarchy this process is in); needs root.
 * A process joins it by writing its pid to `${dir}/cgroup.procs` before it execs (cgroupCommand).
 */
export interface MemoryCgroup {
  readonly dir: string;
  /** Peak usage, page cache included. */
  peakMiB(): number;
  oomKills(): number;
  remove(): void;
}

/** Why a memory cgroup cannot be made here, or undefined when it can. */
export function memoryCgroupUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'making a memory cgroup needs root';
  if (ownMemoryCgroup() === undefined) return 'this process is in no memory cgroup hierarchy';
  return undefined;
}

function ownMemoryCgroup(): { v2: boolean; path: string } | undefined {
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const own = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find(([, controllers]) => (v2 ? controllers === '' : controllers?.split(',').includes('memory')))?.[2];
  return own === undefined ? undefined : { v2, path: own };
}

export function memoryCgroup(mib: number, name: string): MemoryCgroup {
  const own = ownMemoryCgroup();
  if (!own) throw new Error('no memory cgroup for this process');
  const { v2 } = own;
  const dir = join(v2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/memory', own.path, name);
  mkdirSync(dir);
  writeFileSync(join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(mib * 1024 * 1024));
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return {
    dir,
    peakMiB: () => Number(read(v2 ? 'memory.peak' : 'memory.max_usage_in_bytes')) / 2 ** 20,
    oomKills: () =>
      v2
        ? Number(/oom_kill (\d+)/.exec(read('memory.events'))?.[1] ?? 0)
        : Number(/oom_kill (\d+)/.exec(read('memory.oom_control'))?.[1] ?? 0),
    remove: () => rmdirSync(dir),
  };
}

/** `command args` started inside the cgroup: a shell joins it, then becomes the command (same pid). */
export function cgroupCommand(
  cgroupDir: string,
  command: string,
  args: readonly string[],
): [string, string[]] {
  return ['/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroupDir, command, ...args]];
}
