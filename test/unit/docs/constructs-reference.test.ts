import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const root = resolve(import.meta.dirname, '../../..');
const committed = join(root, 'docs/constructs');

test('docs/constructs is the current TypeDoc output of lib/ (regenerate with npm run docs)', async () => {
  const out = await mkdtemp(join(tmpdir(), 'constructs-docs-'));
  try {
    await promisify(execFile)(join(root, 'node_modules/.bin/typedoc'), ['--out', out], {
      cwd: root,
      timeout: 120_000,
    });
    const files = (await readdir(out)).sort();
    assert.deepEqual(files, (await readdir(committed)).sort(), 'the same files');
    for (const file of files) {
      const fresh = await readFile(join(out, file), 'utf8');
      assert.equal(
        await readFile(join(committed, file), 'utf8'),
        fresh,
        `${file} is stale: run npm run docs`,
      );
    }
    // The reference documents the constructs' props, including their defaults.
    const text = await readFile(join(committed, 'README.md'), 'utf8');
    for (const name of [
      'KafkaBackupSchedule',
      'KafkaRestorePlan',
      'KafkaBackupOperator',
      'BackupStorage',
      'Schedule',
    ]) {
      assert.match(text, new RegExp(`### ${name}\\b`), `${name} is documented`);
    }
    assert.match(text, /Default/i);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
