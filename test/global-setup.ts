/**
 * Global setup of `npm test`: reuses a complete environment started by `npm run env -- up`, or
 * starts a private one for this run and stops it afterwards. Test files find it through
 * KAFKA_BACKUP_TEST_ENV.
 */
import { bundleCli } from '../scripts/bundle-cli.ts';
import { cacheDir } from './env/cache.ts';
import { COMPONENTS, down, findRunningEnv, hasComponent, up } from './env/environment.ts';
import { operatorImage } from './env/images.ts';

let startedHere: string | undefined;

export async function globalSetup(): Promise<void> {
  await environment();
  // The CLI and operator tests run the package's bin, the bundled CLI: bundled afresh from runtime/
  // so they never run a stale build.
  await bundleCli();
  // The tests that run Pods on the node share this checkout's operator image. Building it (a
  // bundle, an npm install and a buildah commit, a minute or two of both cores) before any test
  // starts keeps that load away from the tests that measure time.
  const started = Date.now();
  const image = await operatorImage(cacheDir());
  console.log(`# operator image: ${image.reference} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

async function environment(): Promise<void> {
  if (process.env.KAFKA_BACKUP_TEST_ENV) return;
  const running = findRunningEnv();
  if (running && COMPONENTS.every((c) => hasComponent(running.state, c))) {
    process.env.KAFKA_BACKUP_TEST_ENV = running.file;
    console.log(`# test environment: reusing ${running.file}`);
    return;
  }
  if (running) console.log(`# test environment: ${running.file} lacks components; starting a complete one`);
  const result = await up(COMPONENTS, { register: false });
  startedHere = result.file;
  process.env.KAFKA_BACKUP_TEST_ENV = result.file;
  console.log(
    `# test environment: started in ${result.seconds.toFixed(1)} s (logs: ${result.state.root}/logs)`,
  );
}

export async function globalTeardown(): Promise<void> {
  if (startedHere) await down(startedHere, { keepData: process.env.KEEP_TEST_ENV === '1' });
}
