//! A collector of your own: built-in components next to third-party ones.
//!
//! This is the whole program. It registers the OTLP receiver, the batch processor and the
//! debug exporter from Tributary, plus the three components of `examples/plugin-crate` —
//! a separate crate that uses only the public API: the `lines` receiver, the `redact`
//! processor and the `json_lines` exporter.
//!
//! ```sh
//! cargo run --example custom_collector -- --config examples/configs/custom-collector.yaml
//! ```

use std::process::ExitCode;

use tributary::{exporters, processors, receivers};
use tributary_plugin_example::{json_lines, lines, redact};

fn main() -> ExitCode {
    tributary::Collector::builder("custom-collector", env!("CARGO_PKG_VERSION"))
        .receiver(receivers::otlp::factory())
        .receiver(lines::factory())
        .processor(processors::batch::factory())
        .processor(redact::factory())
        .exporter(exporters::debug::factory())
        .exporter(json_lines::factory())
        .default_config(include_str!("configs/custom-collector.yaml"))
        .run_cli()
}
