/**
 * Apache Kafka for the test environment: two independent single-node KRaft clusters, "source" and
 * "target", started with `java` from jars that Maven fetches from Maven Central (test/env/kafka/pom.xml).
 * The source cluster has a second listener, SASL_SSL with SCRAM-SHA-512, whose CA, broker certificate
 * and user passwords are generated fresh for every environment. A third listener, PROXIED (plaintext),
 * advertises a port nothing listens on until a test puts a toxiproxy proxy there (test/env/kafka-proxy.ts),
 * so that every connection of a client, not only the bootstrap one, crosses the proxy.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { freePorts } from '../ports.ts';
import {
  ComponentStartError,
  type ManagedProcess,
  run,
  startProcess,
  stopProcess,
  waitFor,
} from '../process.ts';
import type { ComponentContext, KafkaClusterInfo, KafkaInfo, ScramUser, Started } from '../state.ts';

const kafkaDir = join(import.meta.dirname, '..', 'kafka');
const pomFile = join(kafkaDir, 'pom.xml');
const log4jConfig = join(kafkaDir, 'log4j2.xml');
/** log4j2 config for running Kafka's tools from `KafkaInfo.libDir`: warnings only, on stderr. */
export const kafkaToolsLog4jConfig = join(kafkaDir, 'log4j2-tools.xml');

/** Two brokers and their format runs share 2 cores and a laptop-sized memory budget. */
const BROKER_JVM = [
  '-Xms256m',
  '-Xmx512m',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-Djava.awt.headless=true',
];
/** The storage tool runs for a second: start fast rather than run fast. */
const TOOL_JVM = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];

/** How to run Kafka's JVMs: the jars, and extra flags (class-data-sharing archives) per kind of JVM. */
interface Jvm {
  readonly libDir: string;
  readonly brokerFlags: readonly string[];
  readonly toolFlags: readonly string[];
}

const SCRAM_USERS = ['backup', 'restore'] as const;

/** The Kafka version the pom pins (the cache key starts with it). */
export function kafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pomFile, 'utf8'));
  if (!match?.[1]) throw new Error(`${pomFile} has no <kafka.version> property`);
  return match[1];
}

/**
 * Directory of the Kafka jars, fetched once per pom content into the cache (the version plus a hash
 * of the pom, so any change to it fetches again). Fetches into a temporary directory that is renamed
 * into place, then marked complete, so an interrupted fetch is never mistaken for a finished one.
 */
export async function ensureKafkaJars(cacheDir: string): Promise<string> {
  const pomHash = createHash('sha256').update(readFileSync(pomFile)).digest('hex').slice(0, 12);
  const home = join(cacheDir, 'kafka', `${kafkaVersion()}-${pomHash}`);
  const libs = join(home, 'libs');
  const marker = join(home, '.complete');
  if (existsSync(marker)) return libs;

  mkdirSync(home, { recursive: true });
  const staging = join(home, `libs.partial-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    await run(
      'mvn',
      ['-q', '-B', '-f', pomFile, 'dependency:copy-dependencies', `-DoutputDirectory=${staging}`],
      { timeoutMs: 600_000 },
    );
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw new ComponentStartError(
      'kafka',
      `could not fetch the Kafka jars with Maven (is Maven Central reachable?): ${(error as Error).message}`,
    );
  }
  if (existsSync(marker)) {
    // another run finished the same fetch meanwhile
    rmSync(staging, { recursive: true, force: true });
    return libs;
  }
  rmSync(libs, { recursive: true, force: true });
  renameSync(staging, libs);
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  return libs;
}

interface Tls {
  readonly caFile: string;
  /** Broker private key (unencrypted PKCS#8), certificate and CA in one PEM file. */
  readonly keystoreFile: string;
}

/** A throwaway CA and a broker certificate for 127.0.0.1/localhost, valid for a week (P-256 keys: quick to make). */
async function generateTls(dir: string): Promise<Tls> {
  mkdirSync(dir, { recursive: true });
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await openssl(
    ...'req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7'.split(' '),
    ...['-subj', '/CN=kafka-backup test CA', '-keyout', file('ca.key'), '-out', file('ca.pem')],
  );
  await openssl(
    ...'req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost'.split(' '),
    ...['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ...['-keyout', file('broker.key'), '-out', file('broker.csr')],
  );
  await openssl(
    ...['x509', '-req', '-in', file('broker.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key')],
    ...['-CAcreateserial', '-days', '7', '-copy_extensions', 'copy', '-out', file('broker.crt')],
  );
  const keystoreFile = file('broker-keystore.pem');
  writeFileSync(
    keystoreFile,
    [file('broker.key'), file('broker.crt'), file('ca.pem')].map((f) => readFileSync(f, 'utf8')).join(''),
    { mode: 0o600 },
  );
  return { caFile: file('ca.pem'), keystoreFile };
}

/** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (as `kafka-storage random-uuid`). */
function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

interface ClusterPlan {
  /** source, target, or cds-training */
  readonly name: string;
  readonly dir: string;
  readonly logFile: string;
  readonly clusterId: string;
  readonly plaintextPort: number;
  readonly controllerPort: number;
  readonly saslSsl?: { readonly port: number; readonly tls: Tls; readonly users: readonly ScramUser[] };
  /** The PROXIED listener binds `port` and advertises `advertisedPort`, where a test's toxiproxy listens. */
  readonly proxied?: { readonly port: number; readonly advertisedPort: number };
}

function serverProperties(plan: ClusterPlan): string {
  const listeners = [
    `PLAINTEXT://127.0.0.1:${plan.plaintextPort}`,
    `CONTROLLER://127.0.0.1:${plan.controllerPort}`,
  ];
  const advertised = [`PLAINTEXT://127.0.0.1:${plan.plaintextPort}`];
  const protocols = ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT'];
  const extra: string[] = [];
  if (plan.saslSsl) {
    listeners.push(`SASL_SSL://127.0.0.1:${plan.saslSsl.port}`);
    advertised.push(`SASL_SSL://127.0.0.1:${plan.saslSsl.port}`);
    protocols.push('SASL_SSL:SASL_SSL');
    extra.push(
      'sasl.enabled.mechanisms=SCRAM-SHA-512',
      'listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512',
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'listener.name.sasl_ssl.ssl.keystore.type=PEM',
      `listener.name.sasl_ssl.ssl.keystore.location=${plan.saslSsl.tls.keystoreFile}`,
      'listener.name.sasl_ssl.ssl.truststore.type=PEM',
      `listener.name.sasl_ssl.ssl.truststore.location=${plan.saslSsl.tls.caFile}`,
      'listener.name.sasl_ssl.ssl.client.auth=none',
      // ACLs are enforced, but a resource without any stays open to everyone: only what a test
      // denies on purpose (its own topic, for its own user) is refused.
      'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'allow.everyone.if.no.acl.found=true',
    );
  }
  if (plan.proxied) {
    listeners.push(`PROXIED://127.0.0.1:${plan.proxied.port}`);
    advertised.push(`PROXIED://127.0.0.1:${plan.proxied.advertisedPort}`);
    protocols.push('PROXIED:PLAINTEXT');
  }
  return `${[
    `# ${plan.name} cluster of the kafka-backup test environment (generated at start)`,
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${plan.controllerPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listeners=${listeners.join(',')}`,
    `advertised.listeners=${advertised.join(',')}`,
    `listener.security.protocol.map=${protocols.join(',')}`,
    ...extra,
    `log.dirs=${join(plan.dir, 'data')}`,
    // One node: every internal topic has one replica; few partitions keep first use fast.
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=5',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=5',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // Tests create the topics they use, so a typo fails instead of creating a topic silently.
    'auto.create.topics.enable=false',
    // Test records carry fixed timestamps from 2023: the default 7-day time retention would delete
    // them at the next retention check (every 5 minutes), in the middle of whichever test runs then.
    // Tests that need deletion set retention per topic or delete records explicitly.
    'log.retention.ms=-1',
    'delete.topic.enable=true',
    'num.network.threads=2',
    'num.io.threads=4',
    'log.flush.interval.messages=9223372036854775807',
  ].join('\n')}\n`;
}

/** Formats the cluster's storage (creating the SCRAM users), without letting a password reach an error. */
async function formatStorage(plan: ClusterPlan, jvm: Jvm, configFile: string): Promise<void> {
  const scram = (plan.saslSsl?.users ?? []).flatMap((u) => [
    '--add-scram',
    `${u.mechanism}=[name=${u.username},password=${u.password}]`,
  ]);
  try {
    await run(
      'java',
      [
        ...TOOL_JVM,
        ...jvm.toolFlags,
        `-Dlog4j2.configurationFile=${kafkaToolsLog4jConfig}`,
        '-cp',
        `${jvm.libDir}/*`,
        'kafka.tools.StorageTool',
        'format',
        '--config',
        configFile,
        // '=' form: a generated id may start with '-' and would otherwise parse as an option
        `--cluster-id=${plan.clusterId}`,
        ...scram,
      ],
      { timeoutMs: 120_000 },
    );
  } catch (error) {
    let message = (error as Error).message;
    for (const u of plan.saslSsl?.users ?? []) message = message.replaceAll(u.password, '***');
    writeFileSync(plan.logFile, `storage format failed:\n${message}\n`, { flag: 'a' });
    throw new ComponentStartError(`kafka-${plan.name}`, 'formatting the KRaft storage failed', plan.logFile);
  }
}

/** Ready means the broker answers a metadata request for its own cluster id with itself as a broker. */
async function answersMetadata(plan: ClusterPlan): Promise<boolean> {
  const admin = new Admin({
    clientId: `env-ready-${plan.name}`,
    bootstrapBrokers: [`127.0.0.1:${plan.plaintextPort}`],
    retries: 0,
    connectTimeout: 1000,
    // per request; the default 30 s would stall on a port some other process took meanwhile
    requestTimeout: 2000,
  });
  try {
    const metadata = await admin.metadata({ topics: [] });
    return metadata.id === plan.clusterId && metadata.brokers.size > 0;
  } finally {
    await admin.close();
  }
}

/** The SASL_SSL listener works end to end: TLS with the generated CA and a SCRAM login of the first user. */
async function answersOverSaslSsl(plan: ClusterPlan): Promise<boolean> {
  const saslSsl = plan.saslSsl;
  if (!saslSsl) return true;
  const user = saslSsl.users[0];
  if (!user) return true;
  const admin = new Admin({
    clientId: `env-ready-${plan.name}-sasl`,
    bootstrapBrokers: [`127.0.0.1:${saslSsl.port}`],
    retries: 0,
    connectTimeout: 2000,
    requestTimeout: 5000,
    tls: { ca: readFileSync(saslSsl.tls.caFile) },
    sasl: { mechanism: user.mechanism, username: user.username, password: user.password },
  });
  try {
    const metadata = await admin.metadata({ topics: [] });
    return metadata.id === plan.clusterId;
  } finally {
    await admin.close();
  }
}

async function startCluster(plan: ClusterPlan, jvm: Jvm): Promise<ManagedProcess> {
  mkdirSync(plan.dir, { recursive: true });
  const configFile = join(plan.dir, 'server.properties');
  writeFileSync(configFile, serverProperties(plan));
  await formatStorage(plan, jvm, configFile);
  const proc = startProcess({
    name: `kafka-${plan.name}`,
    command: 'java',
    args: [
      ...BROKER_JVM,
      ...jvm.brokerFlags,
      `-Dlog4j2.configurationFile=${log4jConfig}`,
      `-Dkafka.logs.dir=${plan.dir}`,
      '-cp',
      `${jvm.libDir}/*`,
      'kafka.Kafka',
      configFile,
    ],
    logFile: plan.logFile,
    cwd: plan.dir,
  });
  const { child: _child, ...managed } = proc;
  try {
    await waitFor(managed, 'the broker to answer metadata requests', () => answersMetadata(plan), 90_000);
    if (plan.saslSsl) {
      await waitFor(managed, 'a SCRAM-SHA-512 login over TLS', () => answersOverSaslSsl(plan), 30_000);
    }
  } catch (error) {
    await stopProcess(managed.pid);
    throw error;
  }
  return managed;
}

/** Identifies the JVM on the PATH, since a class-data-sharing archive only fits the JVM that made it. */
function javaKey(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'java');
    if (!existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    const { size, mtimeMs } = statSync(real);
    return createHash('sha256').update(`${real}:${size}:${mtimeMs}`).digest('hex').slice(0, 12);
  }
  throw new ComponentStartError('kafka', 'no `java` on the PATH: Kafka needs a Java 17+ runtime');
}

/**
 * Class-data-sharing (AppCDS) archives of Kafka's classes roughly halve the brokers' start time on
 * a busy 2-core machine. They are made once per jars and JVM, by a training run (format, start a
 * broker with both listeners, stop it) that the first start pays for; a warm start only maps them.
 * Any problem only costs the speed-up: the brokers then start without archives.
 */
async function classDataSharing(
  libDir: string,
  tls: Tls,
  users: readonly ScramUser[],
  ctx: ComponentContext,
): Promise<Jvm> {
  const dir = join(dirname(libDir), `cds-${javaKey()}`);
  const broker = join(dir, 'broker.jsa');
  const tool = join(dir, 'storage-tool.jsa');
  const withArchives: Jvm = {
    libDir,
    brokerFlags: [`-XX:SharedArchiveFile=${broker}`],
    toolFlags: [`-XX:SharedArchiveFile=${tool}`],
  };
  const without: Jvm = { libDir, brokerFlags: [], toolFlags: [] };
  if (existsSync(join(dir, '.complete'))) return withArchives;
  if (existsSync(join(dir, '.failed'))) return without;

  mkdirSync(dir, { recursive: true });
  const logFile = join(ctx.logDir, 'kafka-cds-training.log');
  const suffix = `.partial-${process.pid}`;
  const training = mkdtempSync(join(ctx.dataDir, 'cds-training-'));
  const [plaintextPort, controllerPort, saslPort] = (await freePorts(3)) as [number, number, number];
  const plan: ClusterPlan = {
    name: 'cds-training',
    dir: training,
    logFile,
    clusterId: newClusterId(),
    plaintextPort,
    controllerPort,
    saslSsl: { port: saslPort, tls, users },
  };
  try {
    const recording: Jvm = {
      libDir,
      brokerFlags: [`-XX:ArchiveClassesAtExit=${broker}${suffix}`],
      toolFlags: [`-XX:ArchiveClassesAtExit=${tool}${suffix}`],
    };
    const proc = await startCluster(plan, recording);
    // the archive is written while the JVM exits; a graceful stop takes a few seconds
    await stopProcess(proc.pid, 60_000);
    if (!existsSync(`${broker}${suffix}`) || !existsSync(`${tool}${suffix}`)) {
      throw new Error('the JVM wrote no archive');
    }
    renameSync(`${broker}${suffix}`, broker);
    renameSync(`${tool}${suffix}`, tool);
    writeFileSync(join(dir, '.complete'), `${new Date().toISOString()}\n`);
    return withArchives;
  } catch (error) {
    writeFileSync(logFile, `class-data-sharing training failed, starting without: ${error}\n`, { flag: 'a' });
    writeFileSync(join(dir, '.failed'), `${new Date().toISOString()} see ${logFile}\n`);
    return without;
  } finally {
    rmSync(training, { recursive: true, force: true });
    rmSync(`${broker}${suffix}`, { force: true });
    rmSync(`${tool}${suffix}`, { force: true });
  }
}

/** True when the broker died because a port chosen for it was taken in the meantime. */
function lostPortRace(logFile: string): boolean {
  try {
    return /BindException|Address already in use/.test(readFileSync(logFile, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Starts one cluster on fresh free ports. A port is free when chosen but only bound seconds later by
 * the JVM, and other components pick ports meanwhile: on a lost race, start once more on new ports.
 */
async function startClusterOnFreePorts(
  plan: (ports: number[]) => ClusterPlan,
  portCount: number,
  jvm: Jvm,
): Promise<{ plan: ClusterPlan; process: ManagedProcess }> {
  for (let attempt = 1; ; attempt++) {
    const planned = plan(await freePorts(portCount));
    try {
      return { plan: planned, process: await startCluster(planned, jvm) };
    } catch (error) {
      if (attempt >= 2 || !lostPortRace(planned.logFile)) throw error;
      writeFileSync(planned.logFile, '--- a port was taken meanwhile: starting again on other ports ---\n', {
        flag: 'a',
      });
      rmSync(planned.dir, { recursive: true, force: true });
    }
  }
}

export async function startKafka(ctx: ComponentContext): Promise<Started<KafkaInfo>> {
  const libDir = await ensureKafkaJars(ctx.cacheDir);
  const tls = await generateTls(join(ctx.dataDir, 'tls'));
  const users: ScramUser[] = SCRAM_USERS.map((username) => ({
    username,
    password: randomBytes(18).toString('hex'),
    mechanism: 'SCRAM-SHA-512',
  }));
  const jvm = await classDataSharing(libDir, tls, users, ctx);
  const source = (ports: number[]): ClusterPlan => ({
    name: 'source',
    dir: join(ctx.dataDir, 'source'),
    logFile: join(ctx.logDir, 'kafka-source.log'),
    clusterId: newClusterId(),
    plaintextPort: ports[0] as number,
    controllerPort: ports[1] as number,
    saslSsl: { port: ports[2] as number, tls, users },
    proxied: { port: ports[3] as number, advertisedPort: ports[4] as number },
  });
  const target = (ports: number[]): ClusterPlan => ({
    name: 'target',
    dir: join(ctx.dataDir, 'target'),
    logFile: join(ctx.logDir, 'kafka-target.log'),
    clusterId: newClusterId(),
    plaintextPort: ports[0] as number,
    controllerPort: ports[1] as number,
  });

  const results = await Promise.allSettled([
    // the fifth port is only reserved: the PROXIED listener advertises it, a test's toxiproxy binds it
    startClusterOnFreePorts(source, 5, jvm),
    startClusterOnFreePorts(target, 2, jvm),
  ]);
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    // The environment only learns about processes of a starter that succeeded: stop ours here.
    await Promise.all(started.map((s) => stopProcess(s.process.pid)));
    throw failure.reason;
  }
  const [sourceCluster, targetCluster] = started as [
    { plan: ClusterPlan; process: ManagedProcess },
    { plan: ClusterPlan; process: ManagedProcess },
  ];

  const cluster = (plan: ClusterPlan): KafkaClusterInfo => ({
    bootstrap: `127.0.0.1:${plan.plaintextPort}`,
    clusterId: plan.clusterId,
  });
  return {
    info: {
      source: {
        ...cluster(sourceCluster.plan),
        saslSsl: {
          bootstrap: `127.0.0.1:${sourceCluster.plan.saslSsl?.port}`,
          caFile: tls.caFile,
          users,
        },
        proxied: {
          advertisedPort: sourceCluster.plan.proxied?.advertisedPort as number,
          upstream: `127.0.0.1:${sourceCluster.plan.proxied?.port}`,
        },
      },
      target: cluster(targetCluster.plan),
      libDir,
    },
    processes: [sourceCluster.process, targetCluster.process],
  };
}
