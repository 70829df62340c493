/**
 * Runs the Argo CD resource customizations of runtime/gitops/argocd/ as Argo CD runs them: the
 * object is a plain Lua table (global `obj`) of the object as the API server serves it, and the
 * script sees only what Argo CD gives custom scripts from argocd-cm (the base, table and package
 * libraries, and an os library with only time and date; no string or math library, so no string
 * methods either). The Lua is real (wasmoon: Lua 5.4 compiled to wasm); Argo CD's is gopher-lua
 * (Lua 5.1), so lua51Problems() rejects what 5.4 accepts and 5.1 does not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LuaFactory } from 'wasmoon';
import { KAFKA_API_GROUP } from '../../../runtime/operator/resource.ts';
import { CUSTOMIZATIONS_DIR } from '../../../scripts/gen-argocd.ts';

const factory = new LuaFactory();

/** Argo CD's sandbox for custom scripts (util/lua/lua.go: OpenPackage, OpenBase, OpenTable, safe os). */
const SANDBOX = `
local time, date = os.time, os.date
getmetatable("").__index = nil
string, math, io, debug, utf8, coroutine = nil, nil, nil, nil, nil, nil
dofile, loadfile = nil, nil
os = { time = time, date = date }
`;

export interface Health {
  readonly status: string;
  readonly message: string;
}

/** Runs one script with `obj` bound to a copy of `object`; returns what the script returns. */
export async function runArgoLua(script: string, object: unknown): Promise<unknown> {
  const lua = await factory.createEngine({ enableProxy: false });
  try {
    await lua.doString(SANDBOX);
    lua.global.set('obj', asServed(object));
    return await lua.doString(script);
  } finally {
    lua.global.close();
  }
}

/** The text of one customization file, e.g. `KafkaBackup/health.lua`. */
export function customization(path: string): string {
  return readFileSync(join(CUSTOMIZATIONS_DIR, KAFKA_API_GROUP, path), 'utf8');
}

export async function health(object: { kind?: string }): Promise<Health> {
  const result = (await runArgoLua(customization(`${object.kind}/health.lua`), object)) as Health;
  return { status: result.status, message: result.message };
}

/**
 * The object as the API server serves it: a merge patch's nulls remove fields there (the fake API
 * of the unit tests keeps them), and JSON has no undefined.
 */
export function asServed<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_key, v) => (v === null ? undefined : v)) as T;
}

/**
 * Lua 5.2+ syntax and library calls that gopher-lua (5.1) rejects, found in `source` after its
 * comments and string literals are removed.
 */
export function lua51Problems(source: string): string[] {
  const code = source
    .replace(/--\[(=*)\[[\s\S]*?\]\1\]/g, '')
    .replace(/--[^\n]*/g, '')
    .replace(/\[(=*)\[[\s\S]*?\]\1\]/g, '""')
    .replace(/"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'/g, '""');
  const rules: Array<[RegExp, string]> = [
    [/\bgoto\b|::\w+::/, 'goto and labels (5.2)'],
    [/\/\//, 'integer division // (5.3)'],
    [/&|\||<<|>>|~(?!=)/, 'bitwise operators (5.3)'],
    [/<\s*(const|close)\s*>/, 'attributes <const>/<close> (5.4)'],
    [/\btable\.(unpack|move|pack)\b/, 'table.unpack/move/pack (5.2+)'],
    [/\b(string|math|utf8|io|debug|coroutine)\s*\./, 'a library Argo CD does not open for custom scripts'],
    [/[\w)\]"]\s*:\s*\w+\s*\(/, 'a method call (strings have no methods without the string library)'],
    [/\b(load|loadstring|dofile|loadfile|require|setfenv|getfenv)\s*\(/, 'loading code'],
  ];
  return rules.filter(([pattern]) => pattern.test(code)).map(([, problem]) => problem);
}
