//! A collector of your own: built-in components next to a third-party one.
//!
//! This is the whole program. It registers the OTLP receiver, the batch processor and the
//! file and debug exporters from Tributary, plus the `add_attributes` processor from
//! `examples/plugin-crate` — a separate crate that uses only the public API.
//!
//! ```sh
//! cargo run --example custom_collector -- --config examples/configs/custom-collector.yaml
//! ```

use std::process::ExitCode;

use tributary::{exporters, processors, receivers};

fn main() -> ExitCode {
    tributary::Collector::builder("custom-collector", env!("CARGO_PKG_VERSION"))
        .receiver(receivers::otlp::factory())
        .processor(processors::batch::factory())
        .processor(tributary_plugin_example::factory())
        .exporter(exporters::file::factory())
        .exporter(exporters::debug::factory())
        .default_config(include_str!("configs/custom-collector.yaml"))
        .run_cli()
}
