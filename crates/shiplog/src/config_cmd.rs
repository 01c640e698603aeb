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
