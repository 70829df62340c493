import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './process.ts';

/** Go modules under `tools/`, each pinning one component built from the Go module proxy. */
export type GoToolModule =
  | 'kube'
  | 'kube-node'
  | 'pause'
  | 'etcd'
  | 'helm'
  | 'minio'
  | 'fakegcs'
  | 'toxiproxy';

const buildScript = fileURLToPath(new URL('./tools/build.sh', import.meta.url));
const built = new Map<GoToolModule, Promise<string>>();

/**
 * Returns the directory holding the binaries of a Go tool module, building it into the cache
 * first if needed (cold: minutes; warm: instant).
 */
export function goToolDir(module: GoToolModule): Promise<string> {
  let dir = built.get(module);
  if (!dir) {
    dir = run('bash', [buildScript, module], { timeoutMs: 60 * 60_000 }).then((out) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      const path = line.split(' ')[1];
      if (!path) throw new Error(`tools/build.sh ${module} printed no output directory`);
      return path;
    });
    built.set(module, dir);
  }
  return dir;
}

export async function goTool(module: GoToolModule, binary: string): Promise<string> {
  return join(await goToolDir(module), binary);
}
