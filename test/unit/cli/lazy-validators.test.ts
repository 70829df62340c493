import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { ajv, baseOptionsSchema, baseOptionsValidator } from '@platformatic/kafka';
import { lazyCompile, type Validator } from '../../../runtime/kafka/lazy-validator.ts';
import { compileLazily } from '../../../scripts/bundle-cli.ts';

const realAjv = ajv as unknown as { compile(schema: object): Validator };

describe('lazyCompile', () => {
  it('compiles on the first call, once, and not before', () => {
    let compiles = 0;
    const counting = {
      compile: (schema: object) => {
        compiles++;
        return realAjv.compile(schema);
      },
    };
    const validate = lazyCompile(counting, baseOptionsSchema);
    assert.equal(compiles, 0);
    assert.equal(validate.errors, null);
    assert.equal(validate({ clientId: 'a', bootstrapBrokers: ['localhost:9092'] }), true);
    assert.equal(validate({ clientId: 'b', bootstrapBrokers: ['localhost:9092'] }), true);
    assert.equal(compiles, 1);
  });

  it('judges and explains as the client compiled validator does', () => {
    const validate = lazyCompile(realAjv, baseOptionsSchema);
    for (const options of [
      { clientId: 'a', bootstrapBrokers: ['localhost:9092'] },
      { clientId: 1, bootstrapBrokers: ['localhost:9092'] },
      { bootstrapBrokers: [] },
      { clientId: 'a', bootstrapBrokers: ['localhost:9092'], timeout: -5 },
    ]) {
      const expected = baseOptionsValidator(options);
      assert.equal(validate(options), expected, JSON.stringify(options));
      assert.deepEqual(validate.errors, baseOptionsValidator.errors, JSON.stringify(options));
      if (!expected) assert.ok(ajv.errorsText(validate.errors as never).length > 0);
    }
  });
});

describe('compileLazily (the bundle makes the client validators lazy)', () => {
  const clients = join(dirname(createRequire(import.meta.url).resolve('@platformatic/kafka')), 'clients');
  const modules = readdirSync(clients, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(clients, d.name, 'options.js'))
    .filter((file) => existsSync(file));

  it('rewrites every ajv.compile() of the installed client options modules', () => {
    assert.ok(modules.length >= 4, `options modules: ${modules.join(', ')}`);
    for (const file of modules) {
      const source = readFileSync(file, 'utf8');
      const calls = source.match(/\bajv\.compile\(/g)?.length ?? 0;
      const { code, count } = compileLazily(source, '/helper.ts');
      assert.ok(calls > 0, `${file} compiles no validator`);
      assert.equal(count, calls, file);
      assert.doesNotMatch(code, /\bajv\.compile\(/, file);
      assert.equal(code.match(/__lazyCompile\(ajv, /g)?.length, calls, file);
      assert.ok(code.startsWith('import { lazyCompile as __lazyCompile } from "/helper.ts";\n'), file);
    }
  });

  it('leaves a module without validators as it is', () => {
    const source = 'export const x = compile(schema);\nmyajv.compile(s);\n';
    assert.deepEqual(compileLazily(source, '/helper.ts'), { code: source, count: 0 });
  });
});
