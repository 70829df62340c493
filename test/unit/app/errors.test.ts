import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseArgs } from 'node:util';
import {
  type Classification,
  classify,
  EXIT,
  resultStatus,
  UsageError,
} from '../../../runtime/app/errors.ts';
import { ConfigError } from '../../../runtime/config/reader.ts';
import { EngineError, RunLeaseConflict } from '../../../runtime/engine/errors.ts';
import { EvidenceNotFoundError } from '../../../runtime/evidence/commands.ts';
import { SigningKeyError } from '../../../runtime/evidence/signing.ts';
import {
  BackupExistsError,
  BackupNotFoundError,
  CorruptObjectError,
  EncryptionKeyError,
  UnsupportedFormatError,
} from '../../../runtime/format/errors.ts';
import { KafkaError } from '../../../runtime/kafka/port.ts';
import { redact } from '../../../runtime/log.ts';
import { OffsetsUsageError } from '../../../runtime/offsets/errors.ts';
import { ActiveGroupError } from '../../../runtime/offsets/group-admin.ts';
import { StorageError } from '../../../runtime/storage/object-store.ts';

function parseArgsError(): unknown {
  try {
    parseArgs({ args: ['--nope'], options: {} });
  } catch (error) {
    return error;
  }
  throw new Error('parseArgs accepted an unknown option');
}

const cases: [string, unknown, Omit<Classification, 'message'>][] = [
  ['UsageError', new UsageError('x'), { class: 'terminal', reason: 'InvalidConfig', exitCode: EXIT.usage }],
  [
    'ConfigError',
    new ConfigError('f.yaml', ['p']),
    { class: 'terminal', reason: 'InvalidConfig', exitCode: 2 },
  ],
  [
    'OffsetsUsageError',
    new OffsetsUsageError('x'),
    { class: 'terminal', reason: 'InvalidConfig', exitCode: 2 },
  ],
  ['SigningKeyError', new SigningKeyError('x'), { class: 'terminal', reason: 'InvalidConfig', exitCode: 2 }],
  [
    'EncryptionKeyError',
    new EncryptionKeyError('k'),
    { class: 'terminal', reason: 'InvalidConfig', exitCode: 2 },
  ],
  ['parseArgs', parseArgsError(), { class: 'terminal', reason: 'InvalidConfig', exitCode: 2 }],
  [
    'EngineError config',
    new EngineError('config', 'x'),
    { class: 'terminal', reason: 'InvalidConfig', exitCode: 2 },
  ],
  [
    'CorruptObjectError',
    new CorruptObjectError('a.kbs', 'CRC'),
    { class: 'terminal', reason: 'IntegrityError', exitCode: 3 },
  ],
  [
    'UnsupportedFormatError',
    new UnsupportedFormatError('m', 'v9'),
    { class: 'terminal', reason: 'IntegrityError', exitCode: 3 },
  ],
  [
    'EngineError integrity',
    new EngineError('integrity', 'x'),
    { class: 'terminal', reason: 'IntegrityError', exitCode: 3 },
  ],
  [
    'KafkaError retriable',
    new KafkaError('no leader', { retriable: true }),
    { class: 'retriable', reason: 'KafkaUnavailable', exitCode: 4 },
  ],
  [
    'KafkaError rejected',
    new KafkaError('record too large'),
    { class: 'terminal', reason: 'KafkaRejected', exitCode: 4 },
  ],
  [
    'KafkaError authentication',
    new KafkaError('could not list topics', {
      retriable: true,
      cause: new Error('SASL authentication failed'),
    }),
    { class: 'terminal', reason: 'AuthenticationFailed', exitCode: 4 },
  ],
  [
    'StorageError transient',
    new StorageError('transient', 'reset'),
    { class: 'retriable', reason: 'StorageUnavailable', exitCode: 5 },
  ],
  [
    'StorageError throttled',
    new StorageError('throttled', 'slow'),
    { class: 'retriable', reason: 'StorageUnavailable', exitCode: 5 },
  ],
  [
    'StorageError fatal',
    new StorageError('fatal', 'x'),
    { class: 'terminal', reason: 'StorageUnavailable', exitCode: 5 },
  ],
  [
    'StorageError access-denied',
    new StorageError('access-denied', 'x'),
    { class: 'terminal', reason: 'StorageAccessDenied', exitCode: 5 },
  ],
  [
    'StorageError precondition',
    new StorageError('precondition-failed', 'x'),
    { class: 'retriable', reason: 'Conflict', exitCode: 5 },
  ],
  [
    'StorageError not-found',
    new StorageError('not-found', 'gone'),
    { class: 'terminal', reason: 'NotFound', exitCode: 6 },
  ],
  [
    'BackupNotFoundError',
    new BackupNotFoundError('b', 'file:///x'),
    { class: 'terminal', reason: 'NotFound', exitCode: 6 },
  ],
  [
    'EvidenceNotFoundError',
    new EvidenceNotFoundError('r'),
    { class: 'terminal', reason: 'NotFound', exitCode: 6 },
  ],
  [
    'EngineError not-found',
    new EngineError('not-found', 'x'),
    { class: 'terminal', reason: 'NotFound', exitCode: 6 },
  ],
  [
    'EngineError conflict',
    new EngineError('conflict', 'x'),
    { class: 'terminal', reason: 'Conflict', exitCode: 7 },
  ],
  [
    'RunLeaseConflict (another run of the same backup or restore holds its lease)',
    new RunLeaseConflict('restore r1 is already running'),
    { class: 'retriable', reason: 'Conflict', exitCode: 7 },
  ],
  [
    'BackupExistsError',
    new BackupExistsError('b', 'file:///x'),
    { class: 'terminal', reason: 'Conflict', exitCode: 7 },
  ],
  [
    'ActiveGroupError',
    new ActiveGroupError([{ group: 'g', state: 'Stable', members: [] }]),
    { class: 'retriable', reason: 'Conflict', exitCode: 7 },
  ],
  [
    'EngineError interrupted',
    new EngineError('interrupted', 'x'),
    { class: 'retriable', reason: 'Interrupted', exitCode: 130 },
  ],
  [
    'AbortError',
    new DOMException('aborted', 'AbortError'),
    { class: 'retriable', reason: 'Interrupted', exitCode: 130 },
  ],
  [
    'a wrapped cause',
    new Error('wrapped', { cause: new CorruptObjectError('k', 'r') }),
    { class: 'terminal', reason: 'IntegrityError', exitCode: 3 },
  ],
  [
    'EngineError internal',
    new EngineError('internal', 'state contradicts itself'),
    { class: 'terminal', reason: 'Internal', exitCode: 1 },
  ],
  ['TypeError (a bug)', new TypeError('bug'), { class: 'terminal', reason: 'Internal', exitCode: 1 }],
  ['a thrown string', 'oops', { class: 'terminal', reason: 'Internal', exitCode: 1 }],
];

describe('classify', () => {
  for (const [name, error, expected] of cases) {
    test(`${name} -> ${expected.reason} (${expected.class}, exit ${expected.exitCode})`, () => {
      const { message: _, ...rest } = classify(error);
      assert.deepEqual(rest, expected);
    });
  }

  test('a cause cycle ends as Internal instead of recursing forever', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.equal(classify(a).reason, 'Internal');
  });

  test('the message has registered secret values scrubbed', () => {
    redact('hunter2-classify');
    const c = classify(new KafkaError('login with hunter2-classify refused', { retriable: true }));
    assert.ok(!c.message.includes('hunter2-classify'), c.message);
    assert.match(c.message, /login with .* refused/);
  });
});

describe('resultStatus', () => {
  test('a result that ran to its end maps to success or to the reason and exit code of its failure', () => {
    assert.deepEqual(resultStatus(undefined), { ok: true, exitCode: EXIT.ok });
    assert.deepEqual(resultStatus('commit-failed'), {
      ok: false,
      reason: 'KafkaRejected',
      exitCode: EXIT.kafka,
    });
    assert.deepEqual(resultStatus('offsets-changed'), {
      ok: false,
      reason: 'Conflict',
      exitCode: EXIT.conflict,
    });
    assert.deepEqual(resultStatus('checks-failed'), {
      ok: false,
      reason: 'IntegrityError',
      exitCode: EXIT.integrity,
    });
    assert.deepEqual(resultStatus('signature-invalid'), {
      ok: false,
      reason: 'IntegrityError',
      exitCode: EXIT.integrity,
    });
  });
});
