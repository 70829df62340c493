import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readSegmentHeader, SEGMENT_MAGIC } from '../../../runtime/format/segment.ts';
import { need, uniqueName } from '../../env/fixture.ts';
import type { ConsumedRecord } from '../../env/kafka-client.ts';
import { createTopic, deleteTopic } from '../../env/kafka-client.ts';
import { content, fidelityRecords, produceAll, readTopic, testConnection } from '../engine/helpers.ts';
import { parseJsonOutput, runCli, type Workspace, workspace } from './cli-helpers.ts';

/** Every segment object under a filesystem store: the files that start with a segment's magic. */
async function storedSegments(dir: string): Promise<[string, Buffer][]> {
  const found: [string, Buffer][] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const bytes = await readFile(file);
    if (bytes.length >= 4 && bytes.readUInt32LE(0) === SEGMENT_MAGIC) found.push([file, bytes]);
  }
  return found;
}

/**
 * Every codec through the bundled CLI, as users run it: the codecs load outside the bundle (zlib's
 * zstd and gzip from Node, lz4 from its native addon on first use), so each must back up and restore
 * byte for byte from the bin itself.
 */
describe('kafka-backup CLI: each codec backs up and restores byte for byte', { timeout: 300_000 }, () => {
  const source = testConnection('source');
  const target = testConnection('target');
  const topic = uniqueName('codecs');
  const restored: string[] = [];
  let ws: Workspace;
  let original: ConsumedRecord[][];

  before(async () => {
    ws = await workspace();
    await createTopic(source, topic, { partitions: 2 });
    await produceAll(source, topic, fidelityRecords(3000, 2, 3));
    original = await readTopic(source, topic);
  });

  after(async () => {
    await deleteTopic(source, topic).catch(() => {});
    for (const t of restored) await deleteTopic(target, t).catch(() => {});
    await ws.cleanup();
  });

  for (const compression of ['zstd', 'lz4', 'gzip', 'none'] as const) {
    test(compression, async () => {
      const storage = { storageType: 'filesystem', filesystem: { path: join(ws.dir, compression) } };
      const backup = await runCli([
        'backup',
        '--config',
        await ws.writeConfig(`backup-${compression}.yaml`, {
          kafkaCluster: { bootstrapServers: [need('kafka').source.bootstrap] },
          topics: [topic],
          storage,
          backupId: compression,
          compression,
        }),
        '--output',
        'json',
      ]);
      assert.equal(backup.code, 0, backup.stderr);
      assert.equal(parseJsonOutput(backup).records, 3000);
      // The segments say they were written with this codec (a codec ignored would pass the rest).
      const segments = await storedSegments(storage.filesystem.path);
      assert.ok(segments.length > 0, 'the backup wrote segments');
      for (const [file, bytes] of segments) {
        assert.equal(readSegmentHeader(bytes, file).compression, compression, file);
      }

      const to = `${topic}-${compression}`;
      restored.push(to);
      const restore = await runCli([
        'restore',
        '--config',
        await ws.writeConfig(`restore-${compression}.yaml`, {
          kafkaCluster: { bootstrapServers: [need('kafka').target.bootstrap] },
          backupRef: { backupId: compression },
          storage,
          topicMapping: { [topic]: to },
          createTopics: true,
        }),
        '--output',
        'json',
      ]);
      assert.equal(restore.code, 0, restore.stderr);
      const copy = await readTopic(target, to);
      assert.equal(copy.length, original.length);
      for (let p = 0; p < original.length; p++) {
        assert.deepEqual(
          (copy[p] as ConsumedRecord[]).map((r) => content(r)),
          (original[p] as ConsumedRecord[]).map((r) => content(r)),
          `${to}/${p}`,
        );
      }
    });
  }
});
