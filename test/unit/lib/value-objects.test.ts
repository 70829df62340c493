import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-34';
import {
  AzureBlobAuth,
  BackupStorage,
  Compression,
  Encryption,
  KafkaClusterConnection,
  KafkaSasl,
} from '../../../lib/index.ts';

describe('KafkaClusterConnection', () => {
  test('plaintext writes only the brokers and the protocol', () => {
    const spec = KafkaClusterConnection.plaintext('kafka:9092', 'kafka-2:9092')._toSpec();
    assert.deepEqual(spec.bootstrapServers, ['kafka:9092', 'kafka-2:9092']);
    assert.equal(spec.securityProtocol, undefined, 'PLAINTEXT is the default');
    assert.equal(spec.tlsSecret, undefined);
    assert.equal(spec.saslSecret, undefined);
  });

  test('derives the security protocol from TLS and SASL', () => {
    const sasl = KafkaSasl.scramSha512({ secret: 'kafka-user' });
    const tls = { caSecret: 'cluster-ca-cert' };
    const protocol = (props: object) =>
      new KafkaClusterConnection({ bootstrapServers: ['k:9093'], ...props }).securityProtocol;
    assert.equal(protocol({}), 'PLAINTEXT');
    assert.equal(protocol({ tls }), 'SSL');
    assert.equal(protocol({ sasl }), 'SASL_PLAINTEXT');
    assert.equal(protocol({ tls, sasl }), 'SASL_SSL');
    // TLS against the system CAs (managed Kafka services): no Secret at all.
    const managed = new KafkaClusterConnection({
      bootstrapServers: ['broker.example.com:9093'],
      tls: {},
      sasl,
    })._toSpec();
    assert.equal(managed.securityProtocol, 'SASL_SSL');
    assert.equal(managed.tlsSecret, undefined);
    assert.equal(managed.caSecret, undefined);
  });

  test('references TLS and SASL Secrets by name only, from names or ISecrets', () => {
    const chart = Testing.chart();
    const userSecret = kplus.Secret.fromSecretName(chart, 'User', 'my-user');
    const spec = new KafkaClusterConnection({
      bootstrapServers: ['kafka:9093'],
      tls: {
        secret: userSecret,
        certKey: 'user.crt',
        keyKey: 'user.key',
        caSecret: 'cluster-ca',
        caSecretKey: 'ca.pem',
      },
      sasl: KafkaSasl.plain({ secret: 'sasl', usernameKey: 'u', passwordKey: 'p' }),
      connection: {
        connectionsPerBroker: 8,
        keepaliveTime: Duration.minutes(2),
        tcpNoDelay: false,
        tcpKeepalive: true,
        connectTimeout: Duration.seconds(5),
        requestTimeout: Duration.minutes(2),
      },
      clientId: 'kafka-backup-prod',
    })._toSpec();
    assert.deepEqual(spec.tlsSecret, {
      name: 'my-user',
      caKey: undefined,
      certKey: 'user.crt',
      keyKey: 'user.key',
    });
    assert.deepEqual(spec.caSecret, { name: 'cluster-ca', caKey: 'ca.pem' });
    assert.deepEqual(spec.saslSecret, {
      name: 'sasl',
      mechanism: 'PLAIN',
      usernameKey: 'u',
      passwordKey: 'p',
    });
    assert.deepEqual(spec.connection, {
      tcpKeepalive: true,
      keepaliveTimeSecs: 120,
      tcpNodelay: false,
      connectionsPerBroker: 8,
      connectTimeoutMs: 5000,
      requestTimeoutMs: 120000,
    });
    assert.equal(spec.clientId, 'kafka-backup-prod');
    assert.equal(KafkaSasl.scramSha256({ secret: 's' }).mechanism, 'SCRAM-SHA-256');
  });

  test('refuses invalid combinations with actionable messages', () => {
    const make = (props: object) => () =>
      new KafkaClusterConnection({ bootstrapServers: ['k:9092'], ...props });
    assert.throws(
      () => new KafkaClusterConnection({ bootstrapServers: [] }),
      /give at least one broker as host:port/,
    );
    assert.throws(() => KafkaClusterConnection.plaintext('kafka'), /"kafka" is not host:port/);
    assert.throws(make({ tls: { secret: 's', certKey: 'c' } }), /needs both certKey and keyKey/);
    assert.throws(
      make({ tls: { caSecret: 'ca', certKey: 'c', keyKey: 'k' } }),
      /certKey and keyKey name keys in tls.secret/,
    );
    assert.throws(
      make({ connection: { connectionsPerBroker: 0 } }),
      /connectionsPerBroker: must be a whole number of at least 1, got 0/,
    );
    assert.throws(make({ tls: { secret: 'Not_A_Name' } }), /"Not_A_Name" is not a valid Secret name/);
  });

  test('refuses a Secret defined in the app, whose data would land in dist/', () => {
    const chart = Testing.chart();
    const secret = new kplus.Secret(chart, 'Inline', { stringData: { password: 'x' } });
    assert.throws(
      () => KafkaSasl.plain({ secret }),
      /pass a reference to an existing Secret .*fromSecretName.* its data would be committed to dist\//,
    );
  });
});

describe('BackupStorage', () => {
  test('s3 writes every field of the seed and the credentials Secret by name', () => {
    const storage = BackupStorage.s3({
      bucket: 'kafka-backups',
      region: 'us-west-2',
      endpoint: 'http://minio.minio:9000',
      pathStyle: true,
      allowHttp: true,
      prefix: 'prod/orders',
      credentialsSecret: 's3-credentials',
      accessKeyIdKey: 'id',
      secretAccessKeyKey: 'key',
    });
    assert.equal(storage.storageType, 's3');
    assert.deepEqual(storage._toSpec(), {
      storageType: 's3',
      s3: {
        bucket: 'kafka-backups',
        region: 'us-west-2',
        endpoint: 'http://minio.minio:9000',
        pathStyle: true,
        allowHttp: true,
        prefix: 'prod/orders',
        credentialsSecret: { name: 's3-credentials', accessKeyIdKey: 'id', secretAccessKeyKey: 'key' },
      },
    });
  });

  test('azureBlob supports each authentication method, one at a time', () => {
    const azure = (auth: AzureBlobAuth) =>
      BackupStorage.azureBlob({ container: 'backups', accountName: 'acct1', auth })._toSpec().azure;
    assert.deepEqual(azure(AzureBlobAuth.accountKey('az-key'))?.credentialsSecret, {
      name: 'az-key',
      accountKeyKey: undefined,
    });
    assert.deepEqual(azure(AzureBlobAuth.sasToken('az-sas', 'TOKEN'))?.sasTokenSecret, {
      name: 'az-sas',
      sasTokenKey: 'TOKEN',
    });
    assert.deepEqual(azure(AzureBlobAuth.servicePrincipal('az-sp'))?.servicePrincipalSecret, {
      name: 'az-sp',
    });
    const wi = azure(AzureBlobAuth.workloadIdentity());
    assert.equal(wi?.useWorkloadIdentity, true);
    assert.equal(wi?.credentialsSecret, undefined);
  });

  test('gcs and volume', () => {
    assert.deepEqual(BackupStorage.gcs({ bucket: 'my_bucket', credentialsSecret: 'gcs-sa' })._toSpec(), {
      storageType: 'gcs',
      gcs: {
        bucket: 'my_bucket',
        prefix: undefined,
        endpoint: undefined,
        credentialsSecret: { name: 'gcs-sa', serviceAccountJsonKey: undefined },
      },
    });
    assert.deepEqual(BackupStorage.volume({ claimName: 'backups', subPath: 'kafka' })._toSpec(), {
      storageType: 'pvc',
      pvc: { claimName: 'backups', subPath: 'kafka', create: undefined },
    });
  });

  test('refuses invalid values with the field and the fix', () => {
    const s3 = { bucket: 'b-1', region: 'r', credentialsSecret: 'c' };
    assert.throws(
      () => BackupStorage.s3({ ...s3, bucket: 'B' }),
      /storage.s3.bucket: "B" is not a valid bucket name/,
    );
    assert.throws(() => BackupStorage.s3({ ...s3, region: '' }), /storage.s3.region: set the bucket region/);
    assert.throws(
      () => BackupStorage.s3({ ...s3, endpoint: 'minio:9000' }),
      /storage.s3.endpoint: "minio:9000" is not an http\(s\) URL/,
    );
    assert.throws(() => BackupStorage.s3({ ...s3, endpoint: 'http://minio:9000' }), /set allowHttp: true/);
    assert.throws(
      () => BackupStorage.s3({ ...s3, prefix: '/x' }),
      /storage.s3.prefix: "\/x" must not start with '\/'/,
    );
    const auth = AzureBlobAuth.workloadIdentity();
    assert.throws(
      () => BackupStorage.azureBlob({ container: 'A', accountName: 'acct', auth }),
      /storage.azure.container/,
    );
    assert.throws(
      () => BackupStorage.azureBlob({ container: 'abc', accountName: 'Acct-1', auth }),
      /storage.azure.accountName/,
    );
    assert.throws(
      () => BackupStorage.volume({ claimName: 'c', subPath: '../x' }),
      /relative path without '..'/,
    );
  });
});

describe('Compression and Encryption', () => {
  test('compression algorithms and levels', () => {
    assert.deepEqual({ ...Compression.zstd(19) }, { algorithm: 'zstd', level: 19 });
    assert.equal(Compression.lz4().algorithm, 'lz4');
    assert.equal(Compression.gzip(9).level, 9);
    assert.equal(Compression.none().level, undefined);
    assert.throws(
      () => Compression.zstd(23),
      /Compression.zstd\(23\): the level must be a whole number from 1 to 22/,
    );
    assert.throws(
      () => Compression.gzip(0),
      /Compression.gzip\(0\): the level must be a whole number from 1 to 9/,
    );
  });

  test('encryption references its key Secret by name', () => {
    assert.deepEqual(Encryption.aes256Gcm({ keySecret: 'backup-key' })._toSpec(), {
      algorithm: 'AES-256-GCM',
      keySecret: { name: 'backup-key', key: undefined },
    });
  });
});
