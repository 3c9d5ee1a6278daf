//! The command line every collector built with the builder shares.
//!
//! ```text
//! my-collector [--config URI]... [--set key.path=value]... [--feature-gates=a,-b,+c]
//! my-collector validate | components | print-config | featuregate [ID]
//! ```

use std::ffi::OsString;
use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use tributary_confmap::{Conf, Map, Value};

use super::builder::{CollectorBuilder, ConfigSource};
use super::collector::{Collector, CollectorError};
use super::redact::redact;
use crate::component::Kind;
use crate::graph::FactoryInfo;
use crate::pdata::Signal;

#[derive(Parser, Debug)]
struct Cli {
    /// A configuration URI (file path, file:, env:, yaml:, http:, https:); repeat to merge
    /// several, later ones winning. Without it, the built-in default configuration is used.
    #[arg(long = "config", value_name = "URI", global = true)]
    config: Vec<String>,

    /// Sets one configuration value, applied after every --config (key.path=value).
    #[arg(long = "set", value_name = "KEY=VALUE", global = true)]
    set: Vec<String>,

    /// Enables (id or +id) or disables (-id) feature gates, comma-separated.
    // `--feature-gates -id` is read as the value, as the Go Collector reads it.
    #[arg(
        long = "feature-gates",
        value_name = "GATES",
        global = true,
        allow_hyphen_values = true
    )]
    feature_gates: Vec<String>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Checks the configuration: resolves, decodes and validates it and builds its
    /// pipelines without starting them. Prints every problem with its path.
    Validate,
    /// Lists every component and configuration provider this collector has, with its
    /// stability per signal.
    Components,
    /// Prints the configuration after merging and expansion, with secrets redacted.
    PrintConfig,
    /// Lists the feature gates with their stage and state, or describes one.
    Featuregate {
        /// A gate ID.
        id: Option<String>,
    },
}

/// What went wrong, and the exit code to report it with.
struct Failure {
    message: String,
    code: u8,
}

impl From<CollectorError> for Failure {
    fn from(error: CollectorError) -> Self {
        Failure {
            message: format!("Error: {error}"),
            code: 1,
        }
    }
}

impl CollectorBuilder {
    /// Parses the process's command line, runs what it asks for, and returns the exit
    /// code. The default command runs the collector until SIGINT or SIGTERM (then drains
    /// and exits 0); SIGHUP reloads the configuration.
    pub fn run_cli(self) -> ExitCode {
        self.run_cli_from(std::env::args_os())
    }

    /// [`run_cli`](Self::run_cli) with the given arguments (the first is the program name).
    pub fn run_cli_from<I, T>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let command = Cli::command()
            .name(self.build_info.command.clone())
            .version(self.build_info.version.clone())
            .about(self.build_info.description.clone());
        let cli = match command
            .try_get_matches_from(args)
            .and_then(|m| Cli::from_arg_matches(&m))
        {
            Ok(cli) => cli,
            Err(error) => {
                let _ = error.print();
                return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
            }
        };
        // Before the runtime's threads exist, so every allocator arena sees the settings.
        let tuning = super::process::tune_process();
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                eprintln!("Error: cannot start the async runtime: {error}");
                return ExitCode::FAILURE;
            }
        };
        match runtime.block_on(execute(self, cli, tuning)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => {
                eprintln!("{}", failure.message);
                ExitCode::from(failure.code)
            }
        }
    }
}

async fn execute(
    builder: CollectorBuilder,
    cli: Cli,
    tuning: super::ProcessTuning,
) -> Result<(), Failure> {
    super::gates::register(builder.feature_gates);
    let gates = cli.feature_gates.join(",");
    if !gates.is_empty() {
        builder
            .feature_gates
            .apply_flag(&gates)
            .map_err(|error| Failure {
                message: format!("Error: invalid --feature-gates: {error}"),
                code: 1,
            })?;
    }
    if let Some(Command::Featuregate { id }) = &cli.command {
        return featuregate(&builder, id.as_deref());
    }
    let source = if cli.config.is_empty() {
        ConfigSource::Default { set: cli.set }
    } else {
        ConfigSource::Uris {
            uris: cli.config,
            set: cli.set,
        }
    };
    if let Some(Command::Components) = &cli.command {
        print!("{}", components(&builder));
        return Ok(());
    }
    let builder = builder.install_logging(true);
    match cli.command {
        Some(Command::Validate) => {
            let collector = builder.build(source)?;
            collector.validate().await?;
            Ok(())
        }
        Some(Command::PrintConfig) => {
            let collector = builder.build(source)?;
            let mut conf = collector.resolve().await?;
            redact(&mut conf, collector.factories());
            print!("{}", conf.to_yaml());
            Ok(())
        }
        Some(Command::Featuregate { .. } | Command::Components) => Ok(()),
        None => {
            tracing::debug!(?tuning, "tuned the process for serving");
            run(builder.build(source)?).await
        }
    }
}

/// Runs until a signal stops it: SIGINT or SIGTERM shut down (a second one exits at once),
/// SIGHUP reloads.
async fn run(collector: Collector) -> Result<(), Failure> {
    use tokio::signal::unix::{SignalKind, signal};
    let signals = {
        let collector = collector.clone();
        let mut terminate = signal(SignalKind::terminate()).map_err(signal_failure)?;
        let mut interrupt = signal(SignalKind::interrupt()).map_err(signal_failure)?;
        let mut hangup = signal(SignalKind::hangup()).map_err(signal_failure)?;
        tokio::spawn(async move {
            let mut stopping = false;
            loop {
                let name = tokio::select! {
                    _ = terminate.recv() => "SIGTERM",
                    _ = interrupt.recv() => "SIGINT",
                    _ = hangup.recv() => {
                        tracing::info!("received SIGHUP; reloading the configuration");
                        let _ = collector.reload().await;
                        continue;
                    }
                };
                if stopping {
                    eprintln!("received {name} again; exiting without draining");
                    std::process::exit(1);
                }
                tracing::info!(signal = name, "received a stop signal; draining");
                stopping = true;
                collector.shutdown();
            }
        })
    };
    let outcome = collector.run().await;
    signals.abort();
    outcome.map_err(Failure::from)
}

fn signal_failure(error: std::io::Error) -> Failure {
    Failure {
        message: format!("Error: cannot listen for signals: {error}"),
        code: 1,
    }
}

fn featuregate(builder: &CollectorBuilder, id: Option<&str>) -> Result<(), Failure> {
    let registry = builder.feature_gates;
    let gates = registry.gates();
    let mut out = String::new();
    match id {
        Some(id) => {
            let Some(gate) = registry.get(id) else {
                let valid: Vec<&str> = gates.iter().map(|g| g.id()).collect();
                return Err(Failure {
                    message: format!(
                        "Error: no such feature gate {id:?}; valid gates: {}",
                        valid.join(", ")
                    ),
                    code: 1,
                });
            };
            let _ = writeln!(out, "Feature: {}", gate.id());
            let _ = writeln!(out, "Enabled: {}", gate.is_enabled());
            let _ = writeln!(out, "Stage: {}", gate.stage());
            let _ = writeln!(out, "Description: {}", gate.description());
            if let Some(v) = gate.from_version() {
                let _ = writeln!(out, "From Version: {v}");
            }
            if let Some(v) = gate.to_version() {
                let _ = writeln!(out, "To Version: {v}");
            }
            if let Some(url) = gate.reference_url() {
                let _ = writeln!(out, "Reference: {url}");
            }
        }
        None => {
            let width = gates.iter().map(|g| g.id().len()).max().unwrap_or(2).max(2);
            let _ = writeln!(
                out,
                "{:width$}  {:7}  {:10}  DESCRIPTION",
                "ID", "ENABLED", "STAGE"
            );
            for gate in &gates {
                let _ = writeln!(
                    out,
                    "{:width$}  {:7}  {:10}  {}",
                    gate.id(),
                    gate.is_enabled(),
                    gate.stage().to_string(),
                    gate.description()
                );
            }
        }
    }
    print!("{out}");
    Ok(())
}

/// The `components` listing, in the Go Collector's YAML shape. Written by the YAML
/// serializer, so any description or name reads back as it is.
fn components(builder: &CollectorBuilder) -> String {
    fn text(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    fn map<const N: usize>(entries: [(&str, Value); N]) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }
    let info = &builder.build_info;
    let mut out = Map::new();
    out.insert(
        "buildinfo".into(),
        map([
            ("command", text(&info.command)),
            ("description", text(&info.description)),
            ("version", text(&info.version)),
        ]),
    );
    let factories: Vec<FactoryInfo> = builder.factories.describe();
    for kind in Kind::ALL {
        let listed = factories
            .iter()
            .filter(|f| f.kind == kind)
            .map(|factory| {
                let mut entry = Map::new();
                entry.insert("name".into(), text(factory.component_type.to_string()));
                if !factory.aliases.is_empty() {
                    let aliases = factory.aliases.iter().map(|a| text(a.to_string()));
                    entry.insert("aliases".into(), Value::List(aliases.collect()));
                }
                let mut stability = Map::new();
                if kind == Kind::Connector {
                    // The Go Collector's keys: `traces-to-metrics: alpha`.
                    for (from, to, level) in &factory.pair_stability {
                        stability.insert(format!("{from}-to-{to}"), text(level.to_string()));
                    }
                } else if kind == Kind::Extension {
                    if let Some((_, level)) = factory.stability.first() {
                        stability.insert("extension".into(), text(level.to_string()));
                    }
                } else {
                    for signal in Signal::ALL {
                        let level = factory
                            .stability
                            .iter()
                            .find(|(s, _)| *s == signal)
                            .map(|(_, level)| *level)
                            .filter(|level| level.is_supported());
                        if let Some(level) = level {
                            stability.insert(signal.to_string(), text(level.to_string()));
                        }
                    }
                }
                entry.insert("stability".into(), Value::Map(stability));
                Value::Map(entry)
            })
            .collect();
        out.insert(kind.section().to_string(), Value::List(listed));
    }
    let providers = builder
        .providers
        .iter()
        .map(|p| map([("scheme", text(p.scheme()))]))
        .collect();
    out.insert("providers".into(), Value::List(providers));
    let converters = builder
        .converters
        .iter()
        .map(|c| map([("name", text(c.name()))]))
        .collect();
    out.insert("converters".into(), Value::List(converters));
    Conf::from_map(out).to_yaml()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Collector;

    #[test]
    fn the_components_listing_is_yaml_whatever_the_description_says() {
        let builder = Collector::builder("my-collector", "1.0")
            .description("Acme: collects # everything, {really}: - yes");
        let listing = components(&builder);
        let parsed =
            Conf::from_yaml(&listing).unwrap_or_else(|e| panic!("not YAML ({e}):\n{listing}"));
        assert_eq!(
            parsed.get("buildinfo::description"),
            Some(&Value::String(
                "Acme: collects # everything, {really}: - yes".into()
            ))
        );
        assert_eq!(
            parsed.get("buildinfo::version"),
            Some(&Value::String("1.0".into()))
        );
        assert_eq!(parsed.get("receivers"), Some(&Value::List(Vec::new())));
        let Some(Value::List(providers)) = parsed.get("providers") else {
            panic!("no providers:\n{listing}");
        };
        assert!(providers.contains(&Value::Map(Map::from_iter([(
            "scheme".to_string(),
            Value::String("file".into())
        )]))));
    }

    #[test]
    fn a_gate_to_disable_may_follow_feature_gates_as_its_own_argument() {
        let cli = Cli::try_parse_from(["collector", "featuregate", "--feature-gates", "-a.b"])
            .expect("parses");
        assert_eq!(cli.feature_gates, ["-a.b"]);
        let cli = Cli::try_parse_from(["collector", "--feature-gates=-a.b,+c"]).expect("parses");
        assert_eq!(cli.feature_gates, ["-a.b,+c"]);
    }
}
