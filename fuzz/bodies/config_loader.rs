//! A collector configuration as the service loads it: the YAML text resolved (`${env:...}`,
//! `${...}` and nested `${yaml:...}` references expanded), then checked against every
//! built-in component's factory (the document's structure, the `service` section and its
//! pipelines, each component's section decoded and validated). Never a panic, whatever
//! the text; errors are fine. Only the `env` and `yaml` providers serve references, so no
//! input reads a file or the network.

use std::sync::{Arc, OnceLock};

use tokio::runtime::Runtime;
use tributary::Factories;
use tributary::graph::check_conf;
use tributary_confmap::{EnvProvider, Resolver, ResolverSettings, YamlProvider};

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    })
}

fn factories() -> &'static Factories {
    static FACTORIES: OnceLock<Factories> = OnceLock::new();
    FACTORIES.get_or_init(tributary::components)
}

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let settings = ResolverSettings {
        uris: vec![format!("yaml:{text}")],
        providers: vec![Arc::new(EnvProvider::new()), Arc::new(YamlProvider::new())],
        ..ResolverSettings::default()
    };
    let resolver = Resolver::new(settings).expect("a `yaml:` URI with its provider");
    if let Ok(conf) = runtime().block_on(resolver.resolve()) {
        let _ = check_conf(&conf, factories());
    }
}
