/**
 * Global setup of `npm test`: reuses a complete environment started by `npm run env -- up`, or
 * starts a private one for this run and stops it afterwards. Test files find it through
 * KAFKA_BACKUP_TEST_ENV.
 */
import { COMPONENTS, down, findRunningEnv, hasComponent, up } from './env/environment.ts';

let startedHere: string | undefined;

export async function globalSetup(): Promise<void> {
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
