import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXIT, exitCodeOf, UsageError } from '../../../runtime/cli/exit-codes.ts';
import { ConfigError } from '../../../runtime/config/reader.ts';
import { EngineError } from '../../../runtime/engine/errors.ts';
import {
  BackupNotFoundError,
  CorruptObjectError,
  EncryptionKeyError,
} from '../../../runtime/format/errors.ts';
import { KafkaError } from '../../../runtime/kafka/port.ts';
import { StorageError } from '../../../runtime/storage/object-store.ts';

test('every error class maps to its documented exit code', () => {
  assert.equal(exitCodeOf(new UsageError('x')), EXIT.usage);
  assert.equal(exitCodeOf(new ConfigError('f.yaml', ['p'])), EXIT.usage);
  assert.equal(exitCodeOf(new EncryptionKeyError('k')), EXIT.usage);
  assert.equal(exitCodeOf(new CorruptObjectError('a/b.kbs', 'CRC-32 mismatch')), EXIT.integrity);
  assert.equal(exitCodeOf(new KafkaError('down')), EXIT.kafka);
  assert.equal(exitCodeOf(new StorageError('transient', 'reset')), EXIT.storage);
  assert.equal(exitCodeOf(new StorageError('not-found', 'gone')), EXIT.notFound);
  assert.equal(exitCodeOf(new BackupNotFoundError('b', 'file:///x')), EXIT.notFound);
  assert.equal(exitCodeOf(new EngineError('conflict', 'another writer')), EXIT.conflict);
  assert.equal(exitCodeOf(new EngineError('integrity', 'records missing from a fetch')), EXIT.integrity);
  assert.equal(exitCodeOf(new EngineError('config', 'bad')), EXIT.usage);
  assert.equal(exitCodeOf(new Error('wrapped', { cause: new CorruptObjectError('k', 'r') })), EXIT.integrity);
  assert.equal(exitCodeOf(new TypeError('bug')), EXIT.unexpected);
});
