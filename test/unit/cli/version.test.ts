import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { main } from '../../../runtime/cli/run.ts';
import { toolVersion } from '../../../runtime/version.ts';

test('kafka-backup --version prints the package version (the image test checks the compiled path)', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  assert.equal(toolVersion(), pkg.version);
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    written.push(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    assert.equal(await main(['--version']), 0);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(written.join(''), `kafka-backup ${pkg.version}\n`);
});
