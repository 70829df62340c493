#!/usr/bin/env node
/**
 * The `kafka-backup` executable. Node 24 runs this file with its built-in type stripping; it then
 * registers tsx so the rest of the sources (which use TypeScript-only syntax such as parameter
 * properties) load too. Needs Node >= 24.6 on PATH.
 */
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./run.ts');
process.exitCode = await main(process.argv.slice(2));
