import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { readIntoBuffers } from '../../../scripts/bundle-cli.ts';

describe('readIntoBuffers (the bundle makes the client read fetches into recycled memory)', () => {
  const file = join(
    dirname(createRequire(import.meta.url).resolve('@platformatic/kafka')),
    'network',
    'connection.js',
  );
  const source = readFileSync(file, 'utf8');

  it("adds socketReadOptions() to both of the installed Connection's sockets, TCP and TLS", () => {
    const { code, missing } = readIntoBuffers(source, '/helper.ts');
    assert.deepEqual(missing, []);
    assert.ok(code.startsWith('import { socketReadOptions as __socketReadOptions } from "/helper.ts";\n'));
    assert.equal(code.match(/\.\.\.__socketReadOptions\(this\.#options\) \}/g)?.length, 2);
    assert.match(
      code,
      /createTLSConnection\(port, host, \{ \.\.\.this\.#options\.tls, \.\.\.connectionOptions, \.\.\.__socketReadOptions\(this\.#options\) \}\)/,
    );
    assert.match(
      code,
      /createConnection\(\{ \.\.\.connectionOptions, port, host, \.\.\.__socketReadOptions\(this\.#options\) \}\)/,
    );
    // Nothing else changes.
    assert.equal(
      code.replace(/^import[^\n]*\n/, '').replaceAll(', ...__socketReadOptions(this.#options) }', ' }'),
      source,
    );
  });

  it('names what it cannot find, and changes nothing then', () => {
    const changed = source.replace(
      '{ ...connectionOptions, port, host }',
      '{ port, host, ...connectionOptions }',
    );
    const { code, missing } = readIntoBuffers(changed, '/helper.ts');
    assert.deepEqual(missing, ['{ ...connectionOptions, port, host }']);
    assert.equal(code, changed);
  });
});
