import { Counter, type Registry } from 'prom-client';

/** `kafka_backup_operator_validation_runs_total{result}`: passed, warning, failed, deadline_exceeded, stalled. */
export function validationRunsCounter(registry: Registry): Counter<'result'> {
  const name = 'kafka_backup_operator_validation_runs_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'result'>;
  return new Counter({
    name,
    help: 'KafkaBackupValidation runs by result (passed, warning, failed, deadline_exceeded, stalled)',
    labelNames: ['result'],
    registers: [registry],
  });
}
