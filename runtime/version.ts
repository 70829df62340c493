import { readFileSync } from 'node:fs';

/**
 * The package's version (`kafka-backup --version`, evidence reports), read from package.json next to
 * the source (runtime/ -> ..) or the bundled CLI (build/cli/ -> ../.., its chunks in
 * build/cli/chunks/ -> ../../..; the image's /app).
 */
export function toolVersion(): string {
  for (const up of ['../package.json', '../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === '@oso/kafka-backup-k8s' && pkg.version) return pkg.version;
    } catch {
      // not there: try the next level
    }
  }
  return 'unknown';
}
