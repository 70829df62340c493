#!/usr/bin/env node
/**
 * The `kafka-backup` executable. The package's bin is the compiled build/runtime/cli/main.js
 * (`npm run build`, also run by `npm ci` through `prepare`); from a checkout the sources run with
 * `node --import tsx runtime/cli/main.ts`.
 */
import { main } from './run.ts';

process.exitCode = await main(process.argv.slice(2));
