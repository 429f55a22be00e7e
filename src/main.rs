//! The `vlsim` command: `vlsim serve` runs the emulator.

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;
use vlsim::clock::Clock;
use vlsim::config::{Config, LogFormat, Overrides};
use vlsim::Application;

#[derive(Parser)]
#[command(
    name = "vlsim",
    version,
    about = "Emulator of Horizon VLSI SOAP, FusionAuth JWT and vCenter token-exchange endpoints"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the emulator (prints `vlsim listening on http://HOST:PORT` once accepting).
    Serve(Overrides),
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VLSIM_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(overrides) => serve(&overrides),
    }
}

fn serve(overrides: &Overrides) -> ExitCode {
    let config = match Config::resolve(overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vlsim: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(config.log_format);
    let system = actix_web::rt::System::new();
    let result = system.block_on(async move {
        let app = Application::build(config, Clock::new())?;
        let r = app.report();
        tracing::info!(
            fixtures = %r.origin,
            loaded_now = r.loaded_fixtures,
            keys = r.keys,
            horizon_users = r.horizon_users,
            sessions = r.sessions,
            events = r.events,
            "store ready"
        );
        let url = app.url();
        tracing::info!("VLSI SOAP: {url}/view-vlsi/sdk (WSDL: {url}/view-vlsi/sdk?wsdl)");
        tracing::info!("admin: {url}/_vlsim/health");
        let mut stdout = std::io::stdout().lock();
        // The one line scripts wait for; flushed so pipes see it at once.
        let _ = writeln!(stdout, "vlsim listening on {url}");
        let _ = stdout.flush();
        drop(stdout);
        app.run_until_stopped()
            .await
            .map_err(|e| vlsim::StartError::Bind {
                addr: url,
                source: e,
            })
    });
    match result {
        Ok(()) => {
            tracing::info!("stopped cleanly");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vlsim: {e}");
            ExitCode::FAILURE
        }
    }
}
