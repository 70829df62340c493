/**
 * Regenerates dist/ from the example app: the CRDs (copied from crds/), the operator install and
 * the example resources, plus a Kustomization for Flux and Argo CD. Deterministic: running it
 * twice gives identical files, and the unit tests fail when the committed dist/ is stale.
 *   npm run synth [-- <outdir>]
 */
import { createExampleApp } from '../examples/app.ts';
import { synthesizeForGitOps } from '../lib/index.ts';

const outdir = process.argv[2] ?? 'dist';
const files = synthesizeForGitOps(createExampleApp(), { outdir });
console.log(`wrote ${files.length} files to ${outdir}/: ${files.join(', ')}`);
