/**
 * Starts, stops and reports on the test environment:
 *   npm run env -- up [component ...]   start (the default components unless named) and leave running;
 *                                       `up node` adds the test node to the running environment
 *   npm run env -- status               show what is running and where its logs are
 *   npm run env -- down                 stop it and remove its data
 * While an environment started by `up` is running, `npm test` reuses it instead of starting its own.
 */
import {
  ALL_COMPONENTS,
  addNode,
  COMPONENTS,
  type ComponentName,
  down,
  findRunningEnv,
  hasComponent,
  up,
} from './environment.ts';

const [command = 'status', ...rest] = process.argv.slice(2);

async function main(): Promise<number> {
  switch (command) {
    case 'up': {
      const running = findRunningEnv();
      if (running) {
        const missing = rest.filter((c) => !hasComponent(running.state, c as ComponentName));
        if (missing.length === 1 && missing[0] === 'node') {
          await addNode(running.file);
          return 0;
        }
        if (missing.length > 0) {
          console.error(
            `an environment without ${missing.join(', ')} is running (${running.file}); stop it first: npm run env -- down`,
          );
          return 1;
        }
        console.log(`already running: ${running.file}`);
        return 0;
      }
      const unknown = rest.filter((c) => !(ALL_COMPONENTS as readonly string[]).includes(c));
      if (unknown.length > 0) {
        console.error(`unknown component(s): ${unknown.join(', ')}; known: ${ALL_COMPONENTS.join(', ')}`);
        return 2;
      }
      // `up node` alone means the default components plus the node.
      const wanted =
        rest.length === 0
          ? COMPONENTS
          : rest.length === 1 && rest[0] === 'node'
            ? [...COMPONENTS, 'node']
            : rest;
      const result = await up(wanted as ComponentName[]);
      console.log(`environment up in ${result.seconds.toFixed(1)} s: ${result.file}`);
      console.log(`logs: ${result.state.root}/logs`);
      return 0;
    }
    case 'status': {
      const running = findRunningEnv();
      if (!running) {
        console.log('no environment running (start one with: npm run env -- up)');
        return 1;
      }
      // Test credentials are random per environment, but status output is still no place for them.
      const redact = (key: string, value: unknown) =>
        /password|secret|accountkey|connectionstring/i.test(key) && typeof value === 'string' ? '***' : value;
      console.log(JSON.stringify(running.state, redact, 2));
      console.log(`(credentials are in ${running.file})`);
      return 0;
    }
    case 'add-node': {
      // Internal: ensureNode() runs this under a lock for an environment that may not be registered.
      const [file] = rest;
      if (!file) {
        console.error('usage: env add-node ENV_JSON');
        return 2;
      }
      await addNode(file);
      return 0;
    }
    case 'down': {
      const running = findRunningEnv();
      if (!running) {
        console.log('no environment running');
        return 0;
      }
      await down(running.file);
      console.log('environment stopped');
      return 0;
    }
    default:
      console.error(`unknown command '${command}': use up, status or down`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
