import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { rewriteConnection } from '../../../scripts/bundle-cli.ts';

describe("rewriteConnection (the bundle's changes to the Kafka client's Connection)", () => {
  const file = join(
    dirname(createRequire(import.meta.url).resolve('@platformatic/kafka')),
    'network',
    'connection.js',
  );
  const source = readFileSync(file, 'utf8');
  const helpers = { socketReadOptions: '/reads.ts', writeGathered: '/writes.ts' };

  it('makes both sockets read into read buffers and every request go out as its chunks', () => {
    const { code, missing } = rewriteConnection(source, helpers);
    assert.deepEqual(missing, []);
    assert.ok(
      code.startsWith(
        'import { socketReadOptions as __socketReadOptions } from "/reads.ts";\n' +
          'import { writeGathered as __writeGathered } from "/writes.ts";\n',
      ),
    );
    assert.match(
      code,
      /createTLSConnection\(port, host, \{ \.\.\.this\.#options\.tls, \.\.\.connectionOptions, \.\.\.__socketReadOptions\(this\.#options\) \}\)/,
    );
    assert.match(
      code,
      /createConnection\(\{ \.\.\.connectionOptions, port, host, \.\.\.__socketReadOptions\(this\.#options\) \}\)/,
    );
    assert.match(code, /payload: writer\.buffers,/);
    assert.match(code, /let canWrite = __writeGathered\(this\.#socket, request\.payload\);/);
    assert.doesNotMatch(code, /payload: writer\.buffer,|this\.#socket\.write\(request\.payload\)/);
    // Nothing else changes.
    const undone = code
      .split('\n')
      .slice(2)
      .join('\n')
      .replaceAll(', ...__socketReadOptions(this.#options) }', ' }')
      .replace('payload: writer.buffers,', 'payload: writer.buffer,')
      .replace('__writeGathered(this.#socket, request.payload)', 'this.#socket.write(request.payload)');
    assert.equal(undone, source);
  });

  it('changes nothing, and names what it cannot find, when any text differs', () => {
    const changed = source.replace('payload: writer.buffer,', 'payload: writer.toBuffer(),');
    const { code, missing } = rewriteConnection(changed, helpers);
    assert.deepEqual(missing, ['payload: writer.buffer,']);
    assert.equal(code, changed);
  });
});
