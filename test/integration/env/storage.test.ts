/**
 * Proves the object stores of the test environment are real: each SDK the engine uses puts,
 * lists and gets an object against its emulator, and the emulator enforces credentials.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { RestError } from '@azure/storage-blob';
import { need } from '../../env/fixture.ts';
import {
  azureServiceClient,
  createAzureContainer,
  createGcsBucket,
  createS3Bucket,
  deleteAzureContainer,
  deleteGcsBucket,
  deleteS3Bucket,
  gcsClient,
  getS3Object,
  s3Client,
} from '../../env/storage-clients.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('S3 (MinIO) through @aws-sdk/client-s3', () => {
  test('puts, lists and gets an object with path-style addressing', async (t) => {
    const s3 = s3Client(need('s3'));
    t.after(() => s3.destroy());
    const bucket = await createS3Bucket(s3, 'env-s3');
    t.after(() => deleteS3Bucket(s3, bucket));
    const body = randomBytes(64 * 1024);

    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/a.bin', Body: body }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'other/b.bin', Body: 'b' }));

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'dir/' }));
    assert.deepEqual(
      listed.Contents?.map((o) => [o.Key, o.Size]),
      [['dir/a.bin', body.length]],
    );
    assert.equal(sha256(await getS3Object(s3, bucket, 'dir/a.bin')), sha256(body));
  });

  test('a multipart upload (lib-storage Upload, > 5 MiB) is assembled from its parts', async (t) => {
    const s3 = s3Client(need('s3'));
    t.after(() => s3.destroy());
    const bucket = await createS3Bucket(s3, 'env-s3-mpu');
    t.after(() => deleteS3Bucket(s3, bucket));
    const partSize = 5 * 1024 * 1024;
    const body = randomBytes(2 * partSize + 12_345);

    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'big.bin', Body: body },
      partSize,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const done = await upload.done();

    // A multipart object's ETag is "<md5 of part md5s>-<part count>": proof it took the multipart path.
    assert.match(done.ETag ?? '', /-3"?$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    assert.equal(head.ContentLength, body.length);
    assert.equal(sha256(await getS3Object(s3, bucket, 'big.bin')), sha256(body));
  });

  test('MinIO verifies the CRC32 checksum the SDK sends with an upload', async (t) => {
    const s3 = s3Client(need('s3'), { maxAttempts: 1 });
    t.after(() => s3.destroy());
    const bucket = await createS3Bucket(s3, 'env-s3-crc');
    t.after(() => deleteS3Bucket(s3, bucket));

    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ok', Body: 'hello' }));
    assert.equal(put.ChecksumCRC32, 'NhCmhg==');
    await assert.rejects(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad', Body: 'hello', ChecksumCRC32: 'AAAAAA==' })),
      { name: 'XAmzContentChecksumMismatch' },
    );
  });

  test('MinIO rejects a request signed with the wrong secret key', async (t) => {
    const info = need('s3');
    const s3 = s3Client({ ...info, secretAccessKey: `${info.secretAccessKey}-wrong` }, { maxAttempts: 1 });
    t.after(() => s3.destroy());
    await assert.rejects(s3.send(new ListBucketsCommand({})), { name: 'SignatureDoesNotMatch' });
  });
});

describe('Azure Blob (Azurite) through @azure/storage-blob', () => {
  test('puts, lists and gets a blob with a shared key', async (t) => {
    const service = azureServiceClient(need('azure'));
    const container = await createAzureContainer(service, 'env-azure');
    t.after(() => deleteAzureContainer(container));
    const body = randomBytes(64 * 1024);

    await container.getBlockBlobClient('dir/a.bin').uploadData(body);
    await container.getBlockBlobClient('other/b.bin').upload('b', 1);

    const listed: [string, number | undefined][] = [];
    for await (const blob of container.listBlobsFlat({ prefix: 'dir/' })) {
      listed.push([blob.name, blob.properties.contentLength]);
    }
    assert.deepEqual(listed, [['dir/a.bin', body.length]]);
    const got = await container.getBlockBlobClient('dir/a.bin').downloadToBuffer();
    assert.equal(sha256(got), sha256(body));
  });

  test('Azurite rejects a request signed with the wrong account key', async () => {
    const info = need('azure');
    const wrongKey = Buffer.from(info.accountKey, 'base64').reverse().toString('base64');
    const service = azureServiceClient({ ...info, accountKey: wrongKey });
    await assert.rejects(service.getProperties(), (error: unknown) => {
      assert.ok(error instanceof RestError);
      assert.equal(error.statusCode, 403);
      return true;
    });
  });
});

describe('GCS (fake-gcs-server) through @google-cloud/storage', () => {
  test('puts, lists and gets an object, with simple and resumable uploads', async (t) => {
    const bucket = await createGcsBucket(gcsClient(need('gcs')), 'env-gcs');
    t.after(() => deleteGcsBucket(bucket));
    const small = randomBytes(64 * 1024);
    const large = randomBytes(3 * 1024 * 1024);

    await bucket.file('dir/a.bin').save(small, { resumable: false });
    // Resumable uploads follow the Location URL the server returns: this checks -external-url.
    await bucket.file('dir/b.bin').save(large, { resumable: true });
    await bucket.file('other/c.bin').save('c', { resumable: false });

    const [files] = await bucket.getFiles({ prefix: 'dir/' });
    assert.deepEqual(
      files.map((f) => [f.name, Number(f.metadata.size)]),
      [
        ['dir/a.bin', small.length],
        ['dir/b.bin', large.length],
      ],
    );
    const [gotSmall] = await bucket.file('dir/a.bin').download();
    const [gotLarge] = await bucket.file('dir/b.bin').download();
    assert.equal(sha256(gotSmall), sha256(small));
    assert.equal(sha256(gotLarge), sha256(large));
  });
});
