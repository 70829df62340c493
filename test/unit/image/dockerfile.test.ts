/**
 * The Dockerfile and the daemonless build (`npm run image`) describe the same image: both take
 * their configuration from scripts/image/config.ts (the Dockerfile by hand, so this test holds them
 * together) and their layout from scripts/image/rootfs.sh. The built archive's configuration is
 * checked against the same source in test/integration/env/node.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_OPERATOR_IMAGE } from '../../../lib/operator.ts';
import { IMAGE_CONFIG, IMAGE_REPOSITORY, IMAGE_VERSION } from '../../../scripts/image/config.ts';

const dockerfile = readFileSync(new URL('../../../Dockerfile', import.meta.url), 'utf8')
  // One instruction a line: join continuations.
  .replace(/\\\n\s*/g, ' ');

/** The instructions of the Dockerfile's last stage (the image itself). */
function finalStage(): Array<{ instruction: string; args: string }> {
  const lines = dockerfile.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  const from = lines.map((l, i) => (/^FROM\s/i.test(l) ? i : -1)).filter((i) => i >= 0);
  return lines.slice(from.at(-1)).map((l) => {
    const [instruction = '', ...rest] = l.trim().split(/\s+/);
    return { instruction: instruction.toUpperCase(), args: rest.join(' ') };
  });
}

function only(instruction: string): string {
  const found = finalStage().filter((i) => i.instruction === instruction);
  assert.equal(found.length, 1, `the final stage has one ${instruction}`);
  return (found[0] as { args: string }).args;
}

test('the final stage starts from scratch and copies only the assembled root filesystem', () => {
  assert.equal(only('FROM'), 'scratch');
  assert.equal(only('COPY'), '--from=rootfs /rootfs/ /');
  assert.match(dockerfile, /rootfs\.sh "\$\(command -v node\)" \/app \/rootfs/);
  assert.match(dockerfile, /^FROM node:24[-.\w]* AS build$/m);
});

test('user, working directory, environment, entrypoint and command match scripts/image/config.ts', () => {
  assert.equal(only('USER'), IMAGE_CONFIG.user);
  assert.equal(only('WORKDIR'), IMAGE_CONFIG.workingDir);
  assert.deepEqual(JSON.parse(only('ENTRYPOINT')), IMAGE_CONFIG.entrypoint);
  assert.deepEqual(JSON.parse(only('CMD')), IMAGE_CONFIG.cmd);
  const env = Object.fromEntries(
    finalStage()
      .filter((i) => i.instruction === 'ENV')
      .map((i) => i.args.split('=', 2) as [string, string]),
  );
  assert.deepEqual(env, IMAGE_CONFIG.env);
});

test('labels match scripts/image/config.ts', () => {
  const labels: Record<string, string> = {};
  for (const m of only('LABEL').matchAll(/([\w.]+)="([^"]*)"/g)) labels[m[1] as string] = m[2] as string;
  assert.deepEqual(labels, IMAGE_CONFIG.labels);
});

test("the constructs' default image is the one this version builds", () => {
  assert.equal(DEFAULT_OPERATOR_IMAGE, `${IMAGE_REPOSITORY}:${IMAGE_VERSION}`);
});
