//! `shiplog config init|check`: the commented default configuration, and the effective one.

use anyhow::Result;

use crate::cli::{Cli, ConfigCommand};
use crate::commands::{load_config, optional_repo, print};

pub fn run(cli: &Cli, command: &ConfigCommand) -> Result<()> {
    match command {
        ConfigCommand::Init => print(shiplog_config::TEMPLATE),
        ConfigCommand::Check => {
            let repo = optional_repo(cli);
            let config = load_config(cli, repo.as_ref())?;
            let source = match &config.file {
                Some(path) => format!(
                    "# {} is valid. Effective configuration:\n\n",
                    path.display()
                ),
                None => format!(
                    "# No {} found: the built-in defaults apply.\n\n",
                    shiplog_config::FILE_NAME
                ),
            };
            print(&(source + &config.effective_toml()))
        }
    }
}

/// The import parsers' options: the command line's mappings (`--service`, `--env`,
/// `--incident-label`) over the configuration's `[sources]` and `definitions.incident_labels`.
pub fn import_options(
    flags: shiplog_ingest::formats::Options,
    config: &shiplog_config::Config,
) -> shiplog_ingest::formats::Options {
    let mappings = config.source_mappings();
    let mut services = mappings.services;
    services.extend(flags.services);
    let mut environments = mappings.environments;
    environments.extend(flags.environments);
    shiplog_ingest::formats::Options {
        service: flags.service.or(mappings.default_service),
        services,
        environment: flags.environment.or(mappings.default_environment),
        environments,
        incident_labels: if flags.incident_labels.is_empty() {
            mappings.incident_labels
        } else {
            flags.incident_labels
        },
        deploy_workflows: flags.deploy_workflows,
        deploy_releases: flags.deploy_releases,
    }
}
