import type { EvidenceReport } from './report.ts';

/** A self-contained, human-readable rendering of a report (no scripts, no external resources). */
export function renderEvidenceHtml(report: EvidenceReport): string {
  const e = escapeHtml;
  const b = report.backup;
  const rows = report.checks
    .map(
      (c) =>
        `<tr class="${e(c.outcome)}"><td>${e(c.name)}</td><td>${e(c.outcome.toUpperCase())}</td><td>${e(c.summary)}</td>` +
        `<td>${c.details ? `<pre>${e(JSON.stringify(c.details, null, 2))}</pre>` : ''}</td></tr>`,
    )
    .join('\n');
  const facts: [string, string | number | undefined][] = [
    ['Backup', b.id],
    ['Storage', b.storage],
    ['Backup created', b.createdAt],
    ['Topics', b.topics],
    ['Partitions', b.partitions],
    ['Segments', b.segments],
    ['Records', b.records],
    ['Bytes', b.bytes],
    ['Manifest SHA-256', b.manifestSha256],
    ['Cluster', report.cluster?.bootstrapServers],
    ['Triggered by', report.triggeredBy],
    [
      'Signing key',
      report.signature ? `${report.signature.algorithm} ${report.signature.keyId}` : 'unsigned',
    ],
  ];
  const s = report.summary;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Backup validation ${e(report.reportId)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:.4rem;vertical-align:top;text-align:left}pre{margin:0;white-space:pre-wrap;font-size:.8rem}
.passed td:nth-child(2){color:#137333}.failed td:nth-child(2){color:#c5221f;font-weight:bold}
.warning td:nth-child(2){color:#b06000}.skipped td:nth-child(2){color:#666}
</style></head><body>
<h1>Backup validation: ${e(s.result.toUpperCase())}</h1>
<p>Report <code>${e(report.reportId)}</code>, generated ${e(report.generatedAt)} by ${e(report.tool.name)} ${e(report.tool.version)}.
${s.total} checks: ${s.passed} passed, ${s.failed} failed, ${s.warnings} warnings, ${s.skipped} skipped.</p>
<table>${facts
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(String(v))}</td></tr>`)
    .join('')}</table>
<h2>Checks</h2>
<table><tr><th>Check</th><th>Outcome</th><th>Summary</th><th>Details</th></tr>
${rows}
</table>
<p>This rendering is covered by the report's signature through its SHA-256 in <code>artifacts.html</code>;
verify with <code>kafka-backup evidence verify</code>.</p>
</body></html>
`;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
