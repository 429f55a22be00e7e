//! The `vlsim` command: `vlsim serve` runs the emulator.

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;
use vlsim::clock::Clock;
use vlsim::config::{Config, LogFormat, Overrides};
use vlsim::Application;

// Request paths allocate many small, short-lived buffers (headers, claims, XML, sled
// nodes); mimalloc serves them faster than glibc's malloc (benches/README.md has the figures).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Empty the store in the data dir (fixtures load again on the next start); snapshots
    /// and TLS files are kept. Use when a damaged data dir will not open.
    ResetData {
        /// Data directory [default: ./vlsim-data]
        #[arg(long, env = "VLSIM_DATA_DIR")]
        data_dir: Option<std::path::PathBuf>,
        /// Really do it
        #[arg(long)]
        yes: bool,
    },
    /// Exit 0 if the vlsim configured by the same flags/env/file answers its health check.
    Healthcheck {
        #[command(flatten)]
        overrides: Overrides,
        /// Seconds to wait for the answer
        #[arg(long, default_value_t = 3)]
        timeout: u64,
    },
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
        Command::Healthcheck { overrides, timeout } => healthcheck(&overrides, timeout),
        Command::ResetData { data_dir, yes } => reset_data(data_dir, yes),
    }
}

fn reset_data(data_dir: Option<std::path::PathBuf>, yes: bool) -> ExitCode {
    let dir = data_dir.unwrap_or_else(|| vlsim::config::DEFAULT_DATA_DIR.into());
    let store = vlsim::store::Store::data_path(&dir);
    if !yes {
        eprintln!(
            "vlsim reset-data: this deletes {} (sessions, tokens, events, keys); add --yes to do it",
            store.display()
        );
        return ExitCode::from(2);
    }
    // The manifest describes the store being deleted: it goes too.
    match std::fs::remove_file(dir.join(vlsim::store::MANIFEST_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            eprintln!("vlsim reset-data: cannot delete the manifest: {e}");
            return ExitCode::FAILURE;
        }
        _ => {}
    }
    match std::fs::remove_dir_all(&store) {
        Ok(()) => {
            println!(
                "emptied {}; the fixtures load on the next start",
                store.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("{} holds no store; nothing to do", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vlsim reset-data: cannot delete {}: {e}", store.display());
            ExitCode::FAILURE
        }
    }
}

fn app_url_file(app: &Application) -> std::path::PathBuf {
    app.state()
        .config
        .data_dir
        .join(vlsim::healthcheck::URL_FILE)
}

fn healthcheck(overrides: &Overrides, timeout: u64) -> ExitCode {
    let config = match Config::resolve(overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vlsim: {e}");
            return ExitCode::from(2);
        }
    };
    // An explicit --listen wins; otherwise the URL a running server recorded in the data dir
    // (it knows where it really listens, whatever flags it was started with).
    let listen_flag = std::env::args().any(|a| a == "--listen" || a.starts_with("--listen="));
    let config = if listen_flag {
        config
    } else {
        vlsim::healthcheck::with_recorded_url(config)
    };
    match vlsim::healthcheck::check(&config, std::time::Duration::from_secs(timeout.max(1))) {
        Ok(body) => {
            println!("{body}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vlsim healthcheck: {e}");
            ExitCode::FAILURE
        }
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
            fusionauth_users = r.fusionauth_users,
            refresh_tokens = r.refresh_tokens,
            vcenter_users = r.vcenter_users,
            sessions = r.sessions,
            events = r.events,
            "store ready"
        );
        let url = app.url();
        let url_file = app_url_file(&app);
        // Lets `vlsim healthcheck` find us whatever --listen said (e.g. in a container).
        if let Err(e) = std::fs::write(&url_file, &url) {
            tracing::warn!(error = %e, path = %url_file.display(), "cannot record the listening URL");
        }
        tracing::info!("VLSI SOAP: {url}/view-vlsi/sdk (WSDL: {url}/view-vlsi/sdk?wsdl)");
        tracing::info!("FusionAuth REST: {url}/api/login, {url}/api/jwt/..., {url}/.well-known/jwks.json");
        tracing::info!(
            "vCenter: {url}/api/session, {url}/api/vcenter/authentication/token, JSON-RPC {url}/api, {url}/openidconnect/vsphere.local/.well-known/openid-configuration"
        );
        tracing::info!("admin: {url}/_vlsim/health, {url}/_vlsim/openapi.json");
        // Handlers first: a client that sends SIGTERM as soon as it reads the line below
        // must get a graceful stop, not a lost signal.
        let handle = app.handle();
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(vlsim::StartError::Signals)?;
        let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
            .map_err(vlsim::StartError::Signals)?;
        actix_web::rt::spawn(async move {
            let which = tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = interrupt.recv() => "SIGINT",
            };
            tracing::info!("{which}: finishing in-flight requests, then flushing the data dir");
            handle.stop(true).await;
        });
        let mut stdout = std::io::stdout().lock();
        // The one line scripts wait for; flushed so pipes see it at once.
        let _ = writeln!(stdout, "vlsim listening on {url}");
        let _ = stdout.flush();
        drop(stdout);
        let result = app.run_until_stopped().await;
        let _ = std::fs::remove_file(&url_file);
        result.map_err(vlsim::StartError::from)
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
