//! The gateway's command line, as a user types it: every subcommand's output and exit
//! code, the flags (`--config`, `--set`, `--feature-gates`), and mistakes (an invalid
//! configuration, a missing file, an unknown flag or gate).

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::*;
use serde_json::Value;

/// What one run of the gateway printed and how it exited.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics with everything the run printed unless it exited with `code`.
    fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics unless it failed (any non-zero exit code).
    fn expect_failure(&self) -> &Run {
        assert!(
            !self.success() && self.code.is_some(),
            "expected a failure, got {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// stdout parsed as YAML, as JSON values.
    fn yaml(&self) -> Value {
        tributary::confmap::Conf::from_yaml(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not YAML ({e}):\n{}", self.stdout))
            .decode()
            .unwrap_or_else(|e| panic!("stdout does not decode ({e}):\n{}", self.stdout))
    }
}

/// Runs the gateway with `args` in `dir` (its working directory) and extra environment.
fn gateway_in(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(example("gateway"))
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(dir)
        .output()
        .expect("run the gateway");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn gateway(args: &[&str]) -> Run {
    let dir = temp_dir();
    gateway_in(dir.path(), args, &[])
}

const VALID: &str = r#"
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:4317" }
processors:
  batch: {}
exporters:
  debug: {}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [debug] }
"#;

/// Five independent problems, each in a different place.
const INVALID: &str = r#"
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:4317" }
      htp: {}
processors:
  batch: { timeout: soon }
exporters:
  nosuchexporter: {}
  file: {}
service:
  pipelines:
    traces:
      receivers: [otlp, missing_receiver]
      processors: [batch]
      exporters: [file, nosuchexporter]
"#;

#[test]
fn validate_accepts_a_valid_configuration() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("valid.yaml"), VALID).unwrap();
    let run = gateway_in(dir.path(), &["validate", "--config", "valid.yaml"], &[]);
    run.expect_code(0);
    assert_eq!(run.stderr, "", "nothing to complain about");
}

#[test]
fn validate_prints_every_problem_with_its_path() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("invalid.yaml"), INVALID).unwrap();
    let run = gateway_in(dir.path(), &["validate", "--config", "invalid.yaml"], &[]);
    run.expect_failure();
    for (path, what) in [
        ("receivers::otlp::protocols::htp", "unknown key"),
        ("processors::batch::timeout", "invalid duration \"soon\""),
        ("exporters::nosuchexporter", "unknown exporter type"),
        ("exporters::file::path", "must be non-empty"),
        (
            "service::pipelines::traces::receivers",
            "\"missing_receiver\" which is not configured",
        ),
    ] {
        let line = run
            .stderr
            .lines()
            .find(|line| line.starts_with(&format!("{path}:")))
            .unwrap_or_else(|| panic!("no problem reported at {path}:\n{}", run.stderr));
        assert!(line.contains(what), "{line}");
    }
    assert_eq!(run.stdout, "");
}

/// Go's 2020 otlp exporter testdata: one component, three problems, all in one run and in
/// the order they are written (a bad value no longer hides the unknown keys after it).
#[test]
fn validate_reports_every_problem_inside_one_component() {
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/go_configs/snippets/otlp-exporter-testdata-legacy.yaml"
    );
    let run = gateway(&["validate", "--config", config]);
    run.expect_failure();
    let problems: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("exporters::otlp/2::"))
        .collect();
    let expected = [
        "exporters::otlp/2::compression: unsupported compression \"on\"",
        "exporters::otlp/2::ca_file: unknown key; valid keys: `endpoint`",
        "exporters::otlp/2::per_rpc_auth: unknown key; valid keys: `endpoint`",
    ];
    assert_eq!(problems.len(), expected.len(), "{}", run.stderr);
    for (line, start) in problems.iter().zip(expected) {
        assert!(line.starts_with(start), "{start}\nin:\n{}", run.stderr);
    }
    // The other exporter's own problem is reported in the same run.
    assert!(
        run.stderr
            .contains("exporters::otlp::endpoint: requires a non-empty endpoint"),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_accepts_the_tenants_example_built_with_connectors() {
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/configs/gateway-tenants.yaml"
    );
    let run = gateway(&["validate", "--config", config]);
    run.expect_code(0);
    assert_eq!(run.stderr, "", "nothing to complain about");
}

/// A Go Collector connector configuration with three mistakes: a routing condition with an
/// invalid regular expression, a connector only one pipeline uses, and a cycle.
const CONNECTOR_MISTAKES: &str = r#"
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:4317" }
exporters:
  debug: {}
connectors:
  routing:
    default_pipelines: [traces/out]
    table:
      - statement: route() where IsMatch(attributes["tenant"], "acme-(")
        pipelines: [traces/out]
  forward/unused: {}
  forward/a: {}
  forward/b: {}
service:
  pipelines:
    traces/in: { receivers: [otlp], exporters: [routing, forward/unused] }
    traces/out: { receivers: [routing], exporters: [debug] }
    logs/a: { receivers: [otlp, forward/b], exporters: [forward/a] }
    logs/b: { receivers: [forward/a], exporters: [forward/b] }
"#;

#[test]
fn validate_explains_connector_mistakes_as_go_does() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("connectors.yaml"), CONNECTOR_MISTAKES).unwrap();
    let run = gateway_in(
        dir.path(),
        &["validate", "--config", "connectors.yaml"],
        &[],
    );
    run.expect_failure();
    for want in [
        r#"connectors::routing::table::0::statement: cannot parse "route() where IsMatch(attributes[\"tenant\"], \"acme-(\")" at column 15: expected valid OTTL, found IsMatch: invalid pattern "acme-(""#,
        r#"service::pipelines::traces/in::exporters: connector "forward/unused" used as exporter in traces pipeline but not used in any supported receiver pipeline"#,
        r#"service::pipelines: cycle detected: connector "forward/a" (logs to logs) -> connector "forward/b" (logs to logs) -> connector "forward/a" (logs to logs)"#,
    ] {
        assert!(
            run.stderr.contains(want),
            "missing {want}\nin:\n{}",
            run.stderr
        );
    }
}

#[test]
fn validate_reports_a_yaml_syntax_error_with_the_file_and_line() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("broken.yaml"), "receivers:\n  otlp: {\n").unwrap();
    let run = gateway_in(dir.path(), &["validate", "--config", "broken.yaml"], &[]);
    run.expect_failure();
    assert!(
        run.stderr.contains("broken.yaml") && run.stderr.contains("line 2"),
        "{}",
        run.stderr
    );
}

#[test]
fn without_config_the_embedded_configuration_is_used() {
    gateway(&["validate"]).expect_code(0);
    let printed = gateway(&["print-config"]);
    printed.expect_code(0);
    let config = printed.yaml();
    assert_eq!(
        config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"],
        "127.0.0.1:4317"
    );
    assert_eq!(
        config["service"]["pipelines"]["traces"]["processors"],
        serde_json::json!(["memory_limiter", "batch"])
    );
}

#[test]
fn the_default_command_runs_the_embedded_configuration_until_sigint() {
    let (grpc, http, health, metrics) = (free_port(), free_port(), free_port(), free_port());
    let sets = [
        format!("receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{grpc}"),
        format!("receivers.otlp.protocols.http.endpoint=127.0.0.1:{http}"),
        format!("extensions.health_check.endpoint=127.0.0.1:{health}"),
        format!("service.telemetry.metrics.address=127.0.0.1:{metrics}"),
    ];
    let mut args = Vec::new();
    for set in &sets {
        args.extend(["--set", set.as_str()]);
    }
    let mut process = Proc::spawn(&example("gateway"), &args, &[]);
    let health_addr = format!("127.0.0.1:{health}").parse().unwrap();
    wait_listening(health_addr, Duration::from_secs(60));
    let body = eventually("a healthy gateway", Duration::from_secs(60), || {
        let response = get(health_addr, "/");
        (response.status == 200).then(|| response.text())
    });
    assert!(body.contains("Server available"), "{body}");
    wait_listening(
        format!("127.0.0.1:{grpc}").parse().unwrap(),
        Duration::from_secs(60),
    );

    process.signal("INT");
    let status = process.wait_exit(Duration::from_secs(60));
    assert!(status.success(), "{status}:\n{}", process.output());
    assert!(
        process.output().contains("shutdown complete"),
        "{}",
        process.output()
    );
}

#[test]
fn a_missing_config_file_is_an_error_naming_it() {
    let dir = temp_dir();
    let missing = dir.path().join("nowhere").join("gateway.yaml");
    let missing = missing.to_str().unwrap();
    for args in [
        vec!["--config", missing],
        vec!["validate", "--config", missing],
        vec!["print-config", "--config", missing],
    ] {
        let run = gateway_in(dir.path(), &args, &[]);
        run.expect_failure();
        assert!(
            run.stderr.contains(missing) && run.stderr.contains("No such file"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn components_lists_every_built_in_component_with_its_stability() {
    let run = gateway(&["components"]);
    run.expect_code(0);
    let listing = run.yaml();
    assert_eq!(listing["buildinfo"]["command"], "tributary-gateway");
    assert_eq!(listing["buildinfo"]["version"], env!("CARGO_PKG_VERSION"));
    let find = |kind: &str, name: &str| -> Value {
        listing[kind]
            .as_array()
            .unwrap_or_else(|| panic!("no {kind} list:\n{}", run.stdout))
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} {name}:\n{}", run.stdout))
    };
    let signals = ["traces", "metrics", "logs"];
    // The core components, and those of the Falcon, OpenTSDB, Lookout and DeepFlow
    // ecosystems: each lists a stability for the signals it handles, and only for those.
    for (kind, name, handled) in [
        ("receivers", "otlp", &signals[..]),
        ("processors", "batch", &signals),
        ("processors", "memory_limiter", &signals),
        ("exporters", "otlp", &signals),
        ("exporters", "otlp_http", &signals),
        ("exporters", "debug", &signals),
        ("exporters", "file", &signals),
        ("receivers", "falcon", &["metrics"]),
        ("receivers", "opentsdb", &["metrics"]),
        ("receivers", "lookout", &["metrics"]),
        ("receivers", "deepflow", &["traces", "metrics"]),
        ("processors", "falcon_rate", &["metrics"]),
        ("processors", "falcon_align", &["metrics"]),
        ("processors", "falcon_nodata", &["metrics"]),
        ("processors", "lookup", &signals),
        ("exporters", "falcon", &["metrics"]),
        ("exporters", "opentsdb", &["metrics"]),
        ("exporters", "lookout", &["metrics"]),
        ("exporters", "elasticsearch", &["metrics", "logs"]),
    ] {
        let component = find(kind, name);
        for signal in signals {
            let stability = component["stability"][signal].as_str();
            if !handled.contains(&signal) {
                assert_eq!(stability, None, "{kind} {name}: {signal}:\n{}", run.stdout);
                continue;
            }
            let stability = stability.unwrap_or_else(|| {
                panic!("{kind} {name} has no {signal} stability:\n{}", run.stdout)
            });
            assert!(
                ["development", "alpha", "beta", "stable", "deprecated"].contains(&stability),
                "{kind} {name}: {signal}: {stability}"
            );
        }
    }
    assert_eq!(
        find("exporters", "otlp")["aliases"],
        serde_json::json!(["otlp_grpc"])
    );
    for (name, stability) in [
        ("forward", "beta"),
        ("routing", "alpha"),
        ("failover", "development"),
    ] {
        let connector = find("connectors", name);
        for signal in signals {
            assert_eq!(
                connector["stability"][format!("{signal}-to-{signal}")],
                stability,
                "{name}: {connector}"
            );
        }
        assert!(connector["stability"]["traces-to-metrics"].is_null());
    }
    for name in ["health_check", "file_storage"] {
        let extension = find("extensions", name);
        assert!(
            extension["stability"]["extension"].is_string(),
            "{name}: {extension}"
        );
    }
    let schemes: Vec<&str> = listing["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .filter_map(|p| p["scheme"].as_str())
        .collect();
    for scheme in ["file", "env", "yaml", "http", "https"] {
        assert!(schemes.contains(&scheme), "{scheme} in {schemes:?}");
    }
}

#[test]
fn print_config_merges_sets_expands_and_redacts() {
    let dir = temp_dir();
    std::fs::write(
        dir.path().join("base.yaml"),
        r#"
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:4317" }
exporters:
  otlp:
    endpoint: ${env:BACKEND}
    headers:
      authorization: "Bearer ${env:TOKEN}"
      x-tenant: acme
    compression: gzip
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp] }
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("overlay.yaml"),
        r#"
receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:4318" }
processors:
  batch: { timeout: 1s }
service:
  pipelines:
    traces: { processors: [batch] }
"#,
    )
    .unwrap();
    let run = gateway_in(
        dir.path(),
        &[
            "print-config",
            "--config",
            "base.yaml",
            "--config",
            "file:overlay.yaml",
            "--set",
            "processors.batch.timeout=2s",
            "--set",
            "exporters.otlp.compression=zstd",
        ],
        &[
            ("BACKEND", "backend.example:4317"),
            ("TOKEN", "s3cr3t-t0ken"),
        ],
    );
    run.expect_code(0);
    assert!(
        !run.stdout.contains("s3cr3t-t0ken") && !run.stderr.contains("s3cr3t-t0ken"),
        "the secret leaked:\n{}{}",
        run.stdout,
        run.stderr
    );
    let config = run.yaml();
    let protocols = &config["receivers"]["otlp"]["protocols"];
    assert_eq!(protocols["grpc"]["endpoint"], "127.0.0.1:4317", "from base");
    assert_eq!(protocols["http"]["endpoint"], "127.0.0.1:4318", "merged in");
    let exporter = &config["exporters"]["otlp"];
    assert_eq!(exporter["endpoint"], "backend.example:4317", "${{env:...}}");
    assert_eq!(exporter["headers"]["authorization"], "[REDACTED]");
    assert_eq!(
        exporter["headers"]["x-tenant"], "[REDACTED]",
        "every header value is a secret"
    );
    assert_eq!(exporter["compression"], "zstd", "--set wins");
    assert_eq!(config["processors"]["batch"]["timeout"], "2s", "--set wins");
    let traces = &config["service"]["pipelines"]["traces"];
    assert_eq!(traces["receivers"], serde_json::json!(["otlp"]));
    assert_eq!(traces["processors"], serde_json::json!(["batch"]));
}

/// Secrets under keys no keyword list names: URL credentials, a proxy's, headers whatever
/// they are called, a bearer token, one from the environment.
const SECRETS_CONFIG: &str = r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: "127.0.0.1:4317"
        auth: { bearer_token: B3ARER-T0KEN }
exporters:
  otlp_http:
    endpoint: http://endpointuser:ENDPOINT-PASSW0RD@backend.example:4318
    traces_endpoint: https://TRACES-T0KEN@traces.example/v1/traces
    proxy_url: http://proxyuser:PROXY-PASSW0RD@proxy.example:3128
    headers:
      Cookie: session=C00KIE-VALUE
      X-Auth: X-AUTH-VALUE
      x-honeycomb-team: H0NEYCOMB-TEAM
    compression: zstd
  otlp:
    endpoint: backend.example:4317
    headers: { authorization: "Bearer ${env:TOKEN}" }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp_http, otlp] }
"#;

#[test]
fn print_config_never_prints_a_secret_whatever_its_key() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("gateway.yaml"), SECRETS_CONFIG).unwrap();
    let run = gateway_in(
        dir.path(),
        &["print-config", "--config", "gateway.yaml"],
        &[("TOKEN", "ENV-T0KEN")],
    );
    run.expect_code(0);
    for secret in [
        "B3ARER-T0KEN",
        "endpointuser",
        "ENDPOINT-PASSW0RD",
        "TRACES-T0KEN",
        "proxyuser",
        "PROXY-PASSW0RD",
        "C00KIE-VALUE",
        "X-AUTH-VALUE",
        "H0NEYCOMB-TEAM",
        "ENV-T0KEN",
    ] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{secret} leaked:\n{}{}",
            run.stdout,
            run.stderr
        );
    }
    let config = run.yaml();
    let http = &config["exporters"]["otlp_http"];
    assert_eq!(http["endpoint"], "http://[REDACTED]@backend.example:4318");
    assert_eq!(
        http["traces_endpoint"],
        "https://[REDACTED]@traces.example/v1/traces"
    );
    assert_eq!(http["proxy_url"], "http://[REDACTED]@proxy.example:3128");
    for header in ["Cookie", "X-Auth", "x-honeycomb-team"] {
        assert_eq!(http["headers"][header], "[REDACTED]", "{header}");
    }
    assert_eq!(http["compression"], "zstd", "not a secret");
    let grpc = &config["exporters"]["otlp"];
    assert_eq!(grpc["endpoint"], "backend.example:4317", "not a secret");
    assert_eq!(grpc["headers"]["authorization"], "[REDACTED]");
    let receiver = &config["receivers"]["otlp"]["protocols"]["grpc"];
    assert_eq!(receiver["auth"]["bearer_token"], "[REDACTED]");
    assert_eq!(receiver["endpoint"], "127.0.0.1:4317", "not a secret");
}

#[test]
fn validate_names_the_path_and_the_problem_not_the_secret() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("secret.txt"), "TOKENFILESECRET777\n").unwrap();
    std::fs::write(
        dir.path().join("gateway.yaml"),
        r#"
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:4317" }
exporters:
  otlp_http:
    endpoint: http://backend.example:4318
    timeout: ${file:secret.txt}
  otlp_http/other:
    endpoint: "http://user:URL-PASSW0RD@backend.example:99999"
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp_http, otlp_http/other] }
"#,
    )
    .unwrap();
    let run = gateway_in(dir.path(), &["validate", "--config", "gateway.yaml"], &[]);
    run.expect_failure();
    for secret in ["TOKENFILESECRET777", "URL-PASSW0RD"] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{secret} leaked:\n{}{}",
            run.stdout,
            run.stderr
        );
    }
    for problem in [
        "exporters::otlp_http::timeout: invalid duration (value from a ${file:...} reference not shown)",
        "exporters::otlp_http/other::endpoint: invalid URL \"http://[REDACTED]@backend.example:99999\": invalid port number",
    ] {
        assert!(run.stderr.contains(problem), "{problem}:\n{}", run.stderr);
    }
}

const GATE: &str = "service.reloadKeepsUnchangedComponents";

/// The `featuregate` table's row for `id`: its columns.
fn gate_row(listing: &str, id: &str) -> Vec<String> {
    let row = listing
        .lines()
        .find(|line| line.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("no row for {id}:\n{listing}"));
    row.split_whitespace().map(str::to_string).collect()
}

#[test]
fn featuregate_lists_the_gates_and_describes_one() {
    let run = gateway(&["featuregate"]);
    run.expect_code(0);
    let header = run.stdout.lines().next().unwrap_or_default();
    assert!(
        header.contains("ID") && header.contains("ENABLED") && header.contains("STAGE"),
        "{}",
        run.stdout
    );
    assert_eq!(gate_row(&run.stdout, GATE)[1..3], ["true", "Beta"]);

    let run = gateway(&["featuregate", GATE]);
    run.expect_code(0);
    for line in [
        format!("Feature: {GATE}"),
        "Enabled: true".into(),
        "Stage: Beta".into(),
    ] {
        assert!(
            run.stdout.lines().any(|l| l == line),
            "{line}:\n{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("Description: "), "{}", run.stdout);
}

#[test]
fn featuregate_with_an_unknown_id_lists_the_valid_ones() {
    let run = gateway(&["featuregate", "no.such.gate"]);
    run.expect_failure();
    assert!(
        run.stderr.contains("no.such.gate") && run.stderr.contains(GATE),
        "{}",
        run.stderr
    );
}

#[test]
fn feature_gates_flag_is_reflected_by_featuregate() {
    let disable = format!("--feature-gates=-{GATE}");
    let run = gateway(&[&disable, "featuregate"]);
    run.expect_code(0);
    assert_eq!(gate_row(&run.stdout, GATE)[1..3], ["false", "Beta"]);

    let run = gateway(&["featuregate", GATE, "--feature-gates", &format!("-{GATE}")]);
    run.expect_code(0);
    assert!(run.stdout.contains("Enabled: false"), "{}", run.stdout);

    let run = gateway(&[&format!("--feature-gates=+{GATE}"), "featuregate"]);
    run.expect_code(0);
    assert_eq!(gate_row(&run.stdout, GATE)[1], "true");
}

#[test]
fn an_invalid_feature_gates_entry_is_refused() {
    for (flag, message) in [
        (
            "--feature-gates=no.such.gate",
            "no such feature gate \"no.such.gate\"",
        ),
        ("--feature-gates=bad/id", "invalid character"),
    ] {
        // Refused before anything runs, whatever the command.
        for command in [&["featuregate"][..], &["validate"][..], &[][..]] {
            let mut args = vec![flag];
            args.extend_from_slice(command);
            let run = gateway(&args);
            run.expect_failure();
            assert!(
                run.stderr.contains("invalid --feature-gates") && run.stderr.contains(message),
                "{args:?}: {}",
                run.stderr
            );
        }
    }
}

#[test]
fn help_and_version_exit_zero() {
    for flag in ["--help", "-h"] {
        let run = gateway(&[flag]);
        run.expect_code(0);
        for word in [
            "validate",
            "components",
            "print-config",
            "featuregate",
            "--config",
            "--set",
            "--feature-gates",
        ] {
            assert!(
                run.stdout.contains(word),
                "{flag} mentions {word}:\n{}",
                run.stdout
            );
        }
    }
    for flag in ["--version", "-V"] {
        let run = gateway(&[flag]);
        run.expect_code(0);
        assert_eq!(
            run.stdout.trim(),
            format!("tributary-gateway {}", env!("CARGO_PKG_VERSION"))
        );
    }
    gateway(&["validate", "--help"]).expect_code(0);
}

#[test]
fn an_unknown_flag_or_command_is_refused() {
    for args in [
        &["--no-such-flag"][..],
        &["no-such-command"][..],
        &["validate", "--bogus"][..],
    ] {
        let run = gateway(args);
        run.expect_failure();
        assert!(run.stderr.contains("error:"), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("--help"),
            "points to --help: {}",
            run.stderr
        );
    }
}

#[test]
fn a_set_without_an_equal_sign_is_refused() {
    let run = gateway(&["validate", "--set", "processors.batch.timeout"]);
    run.expect_failure();
    assert!(run.stderr.contains("missing equal sign"), "{}", run.stderr);
}

/// Certificates that exist only on the production host: `validate` accepts the
/// configuration (as Go's does, reading TLS files when the exporter starts), and running
/// it fails at start with an error naming the missing file.
#[test]
fn tls_files_are_read_when_exporters_start_not_when_validated() {
    let dir = temp_dir();
    let metrics = free_port();
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:0" }}
exporters:
  otlp:
    endpoint: backend.example.com:4317
    tls: {{ ca_file: /nonexistent/certs/ca.pem }}
  otlp_http:
    endpoint: https://backend.example.com:4318
    tls: {{ ca_file: /nonexistent/certs/ca.pem }}
service:
  telemetry:
    metrics: {{ address: "127.0.0.1:{metrics}" }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [otlp, otlp_http] }}
"#
    );
    std::fs::write(dir.path().join("prod.yaml"), config).unwrap();
    let run = gateway_in(dir.path(), &["validate", "--config", "prod.yaml"], &[]);
    run.expect_code(0);

    let run = gateway_in(dir.path(), &["--config", "prod.yaml"], &[]);
    run.expect_failure();
    assert!(
        run.stderr.contains("/nonexistent/certs/ca.pem"),
        "{}",
        run.stderr
    );
}
