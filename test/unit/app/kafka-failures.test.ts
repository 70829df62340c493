import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classify } from '../../../runtime/app/errors.ts';
import { diagnoseKafkaFailure } from '../../../runtime/kafka/failures.ts';
import { KafkaError } from '../../../runtime/kafka/port.ts';

/** Error trees shaped as @platformatic/kafka 2.12 builds them (observed on the test listeners). */
function err(message: string, props: Record<string, unknown> = {}, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? {} : { cause }), props);
}
function multiple(message: string, errors: unknown[]): AggregateError {
  return Object.assign(new AggregateError(errors, message), { code: 'PLT_KFK_MULTIPLE' });
}
/** metadata failed N times > Cannot connect to any broker > NetworkError(host:port) > leaf. */
function connectFailure(endpoint: string, leaf: unknown, times = 2): AggregateError {
  const attempt = () =>
    multiple('Cannot connect to any broker.', [
      err(`Connection to ${endpoint} failed.`, { code: 'PLT_KFK_NETWORK', canRetry: true }, leaf),
    ]);
  return multiple(`metadata failed ${times} times.`, Array.from({ length: times }, attempt));
}
function protocol(apiId: string, extra: Record<string, unknown> = {}): Error {
  return err('protocol error', { code: 'PLT_KFK_PROTOCOL', apiId, canRetry: false, ...extra });
}
function response(api: string, errors: Error[], body: unknown): AggregateError {
  return Object.assign(
    new AggregateError(errors, `Received response with error while executing API ${api}`),
    {
      code: 'PLT_KFK_RESPONSE',
      response: body,
    },
  );
}

const ctx = {
  securityProtocol: 'SASL_SSL',
  caSource: 'file /etc/kafka/ca.crt',
  sasl: { mechanism: 'SCRAM-SHA-512', username: 'backup' },
};

describe('Kafka connection failures are named from the error tree', () => {
  test('wrong SCRAM password: terminal AuthenticationFailed naming user and mechanism, not the password', () => {
    const tree = connectFailure(
      '127.0.0.1:9094',
      err(
        'SASL authentication failed.',
        { code: 'PLT_KFK_AUTHENTICATION', canRetry: false },
        response('SaslAuthenticate(v2)', [protocol('SASL_AUTHENTICATION_FAILED')], { errorCode: 58 }),
      ),
    );
    const f = diagnoseKafkaFailure(tree, ctx);
    assert.equal(f?.kind, 'sasl-failed');
    assert.equal(f?.terminal, true);
    assert.match(f?.message ?? '', /user 'backup' with SCRAM-SHA-512 failed at 127\.0\.0\.1:9094/);
    const c = classify(tree);
    assert.deepEqual([c.class, c.reason, c.exitCode], ['terminal', 'AuthenticationFailed', 4]);
  });

  test('mechanism not enabled: lists the mechanisms the handshake returned', () => {
    const tree = connectFailure(
      '127.0.0.1:9094',
      err(
        'Cannot find a suitable SASL mechanism.',
        { code: 'PLT_KFK_AUTHENTICATION', canRetry: false },
        response('SaslHandshake(v1)', [protocol('UNSUPPORTED_SASL_MECHANISM')], {
          errorCode: 33,
          mechanisms: ['SCRAM-SHA-512'],
        }),
      ),
    );
    const f = diagnoseKafkaFailure(tree, {
      ...ctx,
      sasl: { mechanism: 'SCRAM-SHA-256', username: 'backup' },
    });
    assert.equal(f?.kind, 'sasl-mechanism');
    assert.match(f?.message ?? '', /does not enable SASL mechanism SCRAM-SHA-256; it enables SCRAM-SHA-512/);
    assert.equal(classify(tree).reason, 'AuthenticationFailed');
  });

  test('CA that did not sign the certificate: terminal TLSHandshakeFailed naming the CA source', () => {
    const tree = connectFailure(
      '127.0.0.1:9094',
      err('self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
    );
    const f = diagnoseKafkaFailure(tree, ctx);
    assert.equal(f?.kind, 'tls-untrusted');
    assert.match(f?.message ?? '', /not signed by the CA in file \/etc\/kafka\/ca\.crt/);
    assert.deepEqual([classify(tree).class, classify(tree).reason], ['terminal', 'TLSHandshakeFailed']);
  });

  test('hostname mismatch names the host and the certificate names', () => {
    const tree = connectFailure(
      '127.0.0.1:9094',
      err("Hostname/IP does not match certificate's altnames", {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        host: 'kafka.example',
        cert: { subjectaltname: 'IP Address:127.0.0.1, DNS:localhost' },
      }),
    );
    const f = diagnoseKafkaFailure(tree, ctx);
    assert.equal(f?.kind, 'tls-hostname');
    assert.match(
      f?.message ?? '',
      /not valid for 'kafka\.example' \(it names IP Address:127\.0\.0\.1, DNS:localhost\)/,
    );
  });

  test('SASL_SSL against a PLAINTEXT listener: the server did not speak TLS', () => {
    const tree = connectFailure(
      '127.0.0.1:9092',
      err(
        'TLS handshake failed. Please verify the broker supports TLS.',
        { code: 'PLT_KFK_USER', canRetry: false },
        err('Client network socket disconnected before secure TLS connection was established', {
          code: 'ECONNRESET',
          host: '127.0.0.1',
          port: 9092,
        }),
      ),
    );
    const f = diagnoseKafkaFailure(tree, ctx);
    assert.equal(f?.kind, 'tls-not-spoken');
    assert.match(
      f?.message ?? '',
      /127\.0\.0\.1:9092 .*did not speak TLS; check securityProtocol \(SASL_SSL\)/,
    );
    assert.equal(classify(tree).reason, 'TLSHandshakeFailed');
  });

  test('refused, unresolved and timed out connections are retriable BrokerUnreachable', () => {
    const refused = connectFailure(
      '127.0.0.1:1',
      err('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED', address: '127.0.0.1', port: 1 }),
    );
    const dns = connectFailure(
      'no-such-host.invalid:9092',
      err('getaddrinfo ENOTFOUND no-such-host.invalid', {
        code: 'ENOTFOUND',
        hostname: 'no-such-host.invalid',
      }),
    );
    const timeout = connectFailure(
      '10.0.0.1:9092',
      err('Connection timed out.', { code: 'PLT_KFK_TIMEOUT' }),
    );
    assert.match(diagnoseKafkaFailure(refused)?.message ?? '', /^connection to 127\.0\.0\.1:1 refused$/);
    assert.match(diagnoseKafkaFailure(dns)?.message ?? '', /no-such-host\.invalid could not be resolved/);
    assert.match(diagnoseKafkaFailure(timeout)?.message ?? '', /10\.0\.0\.1:9092 timed out/);
    const closed = multiple('listApis failed 6 times.', [
      err('Connection closed', { code: 'PLT_KFK_NETWORK' }),
    ]);
    assert.equal(diagnoseKafkaFailure(closed)?.kind, 'connection-closed');
    for (const tree of [refused, dns, timeout, closed]) {
      const c = classify(tree);
      assert.deepEqual([c.class, c.reason, c.exitCode], ['retriable', 'BrokerUnreachable', 4]);
    }
  });

  test('authorization denied names the resource; unsupported version is terminal', () => {
    const denied = multiple('x failed', [protocol('TOPIC_AUTHORIZATION_FAILED', { topics: ['orders'] })]);
    const f = diagnoseKafkaFailure(denied, ctx);
    assert.match(
      f?.message ?? '',
      /denied access to the topic 'orders' \(TOPIC_AUTHORIZATION_FAILED\) for user 'backup'/,
    );
    assert.equal(classify(denied).reason, 'AuthorizationFailed');
    const old = multiple('x failed', [protocol('UNSUPPORTED_VERSION')]);
    assert.deepEqual([classify(old).class, classify(old).reason], ['terminal', 'UnsupportedBrokerVersion']);
  });

  test('a terminal cause wins over a retriable one in the same tree; a KafkaError keeps its failure', () => {
    const tree = multiple('metadata failed 2 times.', [
      connectFailure('127.0.0.1:1', err('refused', { code: 'ECONNREFUSED', address: '127.0.0.1', port: 1 })),
      connectFailure('127.0.0.1:9094', err('self-signed', { code: 'SELF_SIGNED_CERT_IN_CHAIN' })),
    ]);
    assert.equal(diagnoseKafkaFailure(tree)?.kind, 'tls-untrusted');
    const wrapped = new KafkaError('could not read the cluster metadata', {
      retriable: true,
      cause: tree,
      failure: { kind: 'connection-refused', terminal: false, message: 'refused' },
    });
    assert.equal(classify(wrapped).reason, 'BrokerUnreachable');
    assert.equal(classify(new KafkaError('x', { retriable: true })).reason, 'KafkaUnavailable');
  });
});
