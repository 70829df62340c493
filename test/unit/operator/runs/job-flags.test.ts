import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FlagError, parseOperatorFlags } from '../../../../runtime/operator/flags.ts';

describe('runner flags', () => {
  test('in-process is the default', () => {
    assert.deepEqual(parseOperatorFlags([], {}).runner, { mode: 'in-process' });
  });

  test('--runner=job takes the image, the ServiceAccount and a template', () => {
    const dir = mkdtempSync(join(tmpdir(), 'job-flags-'));
    const file = join(dir, 'template.yaml');
    writeFileSync(file, 'spec:\n  hostNetwork: true\n  nodeSelector: { pool: batch }\n');
    const flags = parseOperatorFlags(
      ['--runner=job', '--job-image=img:1', '--job-service-account=runs', `--job-template=${file}`],
      {},
    );
    assert.deepEqual(flags.runner, {
      mode: 'job',
      job: {
        image: 'img:1',
        serviceAccountName: 'runs',
        template: { spec: { hostNetwork: true, nodeSelector: { pool: 'batch' } } },
      },
    });
  });

  test('nothing accepted and ignored: job flags need --runner=job, job needs an image, a bad template stops start-up', () => {
    const dir = mkdtempSync(join(tmpdir(), 'job-flags-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'spec:\n  initContainers: []\n');
    for (const [argv, expected] of [
      [['--job-image=img:1'], /--job-image applies to --runner=job only/],
      [['--job-template=x.yaml'], /--job-template applies to --runner=job only/],
      [['--runner=job'], /needs --job-image/],
      [['--runner=pod'], /expected in-process or job/],
      [['--runner=job', '--job-image=i', `--job-template=${join(dir, 'missing.yaml')}`], /cannot read/],
      [['--runner=job', '--job-image=i', `--job-template=${bad}`], /spec\.initContainers is not supported/],
    ] as const) {
      assert.throws(
        () => parseOperatorFlags([...argv], {}),
        (e: Error) => e instanceof FlagError && expected.test(e.message),
        argv.join(' '),
      );
    }
  });
});
