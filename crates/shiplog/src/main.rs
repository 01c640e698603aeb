//! The `shiplog` command: a thin layer that parses arguments, opens the repository and the store,
//! and hands the work to the library crates.
//!
//! Exit codes: 0 success, 1 an error (one-line cause on stderr, with hints), 2 bad usage.

mod analysis;
mod cli;
mod client;
mod commands;
mod config_cmd;
mod dashboard;
mod demo;
mod experiment;
mod guide;
mod impact;
mod ingest;
mod practice;
mod report;
mod serve;
use shiplog_engine::store;
mod sync_github;
mod ui;

use clap::Parser;

use crate::cli::{Cli, Command, ExperimentCommand, PracticeCommand, RecordCommand, SyncCommand};
use crate::ui::Ui;

fn main() {
    // clap would report an empty variable as a missing `--db` value, which names the wrong thing.
    for (var, flag) in [("SHIPLOG_DB", "--db"), ("SHIPLOG_CONFIG", "--config")] {
        if std::env::var_os(var).is_some_and(|v| v.is_empty()) {
            Ui::new(false).error(&format!(
                "{var} is set but empty\nhint: set it to a path ({flag} PATH does the same), or unset it (unset {var}) for the default"
            ));
            std::process::exit(2);
        }
    }
    let cli = Cli::parse();
    let ui = Ui::new(cli.quiet);
    // The server answers many connections at once; every other command is one sequence of work.
    let mut builder = if matches!(cli.command, Command::Serve(_)) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            ui.error(&format!("cannot start the async runtime: {e}"));
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(run(cli, ui));
    if let Err(error) = result {
        let mut text = commands::error_text(&error);
        if text.contains("database is locked") {
            text.push_str(&format!(
                "\nhint: another process (a shiplog import, sync or record) held the store for the whole {} s wait; retry when it is done, or give concurrent jobs their own --db",
                shiplog_store_sqlite::BUSY_TIMEOUT.as_secs()
            ));
        }
        ui.error(&text);
        std::process::exit(1);
    }
}

async fn run(cli: Cli, ui: Ui) -> anyhow::Result<()> {
    match &cli.command {
        Command::Metrics(args) => commands::metrics(&cli, args, &ui).await,
        Command::Explain(args) => commands::explain(&cli, args, &ui).await,
        Command::Record(RecordCommand::Deployment(args)) => {
            commands::record_deployment(&cli, args, &ui).await
        }
        Command::Record(RecordCommand::Incident(args)) => {
            commands::record_incident(&cli, args, &ui).await
        }
        Command::Import(args) => commands::import(&cli, args, &ui).await,
        Command::Sync(SyncCommand::Github(args)) => sync_github::run(&cli, args, &ui).await,
        Command::Practice(PracticeCommand::Start(args)) => practice::start(&cli, args, &ui).await,
        Command::Practice(PracticeCommand::End(args)) => practice::end(&cli, args, &ui).await,
        Command::Practice(PracticeCommand::List(args)) => practice::list(&cli, args).await,
        Command::Impact(args) => impact::run(&cli, args, &ui).await,
        Command::Guide(args) => guide::run(&cli, args, &ui).await,
        Command::Experiment(ExperimentCommand::Start(args)) => {
            experiment::start(&cli, args, &ui).await
        }
        Command::Experiment(ExperimentCommand::Edit(args)) => {
            experiment::edit(&cli, args, &ui).await
        }
        Command::Experiment(ExperimentCommand::List(args)) => experiment::list(&cli, args).await,
        Command::Experiment(ExperimentCommand::Review(args)) => {
            experiment::review(&cli, args, &ui).await
        }
        Command::Report(args) => report::run(&cli, args, &ui).await,
        Command::Demo(args) => demo::run(args, &ui).await,
        Command::Config(command) => config_cmd::run(&cli, command),
        Command::Serve(args) => serve::run(&cli, args, &ui).await,
    }
}
