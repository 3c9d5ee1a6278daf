//! `log.file.owner.name`, `log.file.owner.group.name` and `log.file.permissions`: names
//! from `/etc/passwd` and `/etc/group` (what Go's `os/user` reads without cgo).

use std::fs::Metadata;

use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;

use super::config::Config;

/// Adds the owner, group and permission attributes `config` asks for.
#[cfg(unix)]
pub(super) fn attributes(metadata: &Metadata, config: &Config, out: &mut Vec<KeyValue>) {
    use std::os::unix::fs::MetadataExt;
    if config.include_file_owner_name
        && let Some(name) = name_of("/etc/passwd", metadata.uid())
    {
        out.push(key_value("log.file.owner.name", name));
    }
    if config.include_file_owner_group_name
        && let Some(name) = name_of("/etc/group", metadata.gid())
    {
        out.push(key_value("log.file.owner.group.name", name));
    }
    if config.include_file_permissions {
        let mode = format!("{:04o}", metadata.mode() & 0o7777);
        out.push(key_value("log.file.permissions", mode));
    }
}

#[cfg(not(unix))]
pub(super) fn attributes(_: &Metadata, _: &Config, _: &mut Vec<KeyValue>) {}

/// The name of `id` in a `name:password:id:...` database.
#[cfg(unix)]
fn name_of(database: &str, id: u32) -> Option<String> {
    let text = std::fs::read_to_string(database).ok()?;
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let found: u32 = fields.nth(1)?.parse().ok()?;
        (found == id).then(|| name.to_string())
    })
}
