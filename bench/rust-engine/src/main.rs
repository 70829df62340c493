//! `kafka-backup-core-bench backup|restore CONFIG.yaml`: runs kafka-backup-core's backup or restore
//! engine once with a configuration in the Rust tool's own YAML, and prints one JSON line with what
//! its report says, so the benchmark can check that the run did the work it timed.
use kafka_backup_core::backup::BackupEngine;
use kafka_backup_core::{Config, RestoreEngine};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 || (args[1] != "backup" && args[1] != "restore") {
        eprintln!("usage: kafka-backup-core-bench backup|restore CONFIG.yaml");
        return ExitCode::from(2);
    }
    let text = match std::fs::read_to_string(&args[2]) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("cannot read {}: {e}", args[2]);
            return ExitCode::from(2);
        }
    };
    let config: Config = match serde_yaml::from_str(&text) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("invalid configuration {}: {e}", args[2]);
            return ExitCode::from(2);
        }
    };
    let outcome = if args[1] == "backup" {
        match BackupEngine::new(config).await {
            Ok(engine) => engine.run().await.map(|()| serde_json::json!({ "ok": true })),
            Err(e) => Err(e),
        }
    } else {
        match RestoreEngine::new(config) {
            Ok(engine) => engine.run().await.map(|report| {
                serde_json::json!({
                    "ok": true,
                    "records": report.records_restored,
                    "bytes": report.bytes_restored,
                })
            }),
            Err(e) => Err(e),
        }
    };
    match outcome {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
