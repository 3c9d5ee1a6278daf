//! Configuration URIs: `scheme:opaque`, bare paths meaning `file:`, and `--set` arguments.

use crate::error::Error;
use crate::path::KEY_DELIMITER;

/// Whether `scheme` is a valid scheme name: `[A-Za-z][A-Za-z0-9+.-]+`. At least two
/// characters, so that a Windows drive letter (`C:\x.yaml`) is never taken for a scheme.
pub fn is_valid_scheme(scheme: &str) -> bool {
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

/// Splits `scheme:opaque` when the text before the first `:` is a valid scheme.
pub(crate) fn split_scheme(uri: &str) -> Option<(&str, &str)> {
    let (scheme, opaque) = uri.split_once(':')?;
    is_valid_scheme(scheme).then_some((scheme, opaque))
}

/// Turns a `--config` value into a URI: anything without a scheme (a bare path, or a path
/// starting with a drive letter) is a file.
pub(crate) fn normalize_config_uri(uri: &str) -> String {
    if split_scheme(uri).is_some() {
        uri.to_owned()
    } else {
        format!("file:{uri}")
    }
}

/// Turns a `--set a.b=c` argument into the URI `yaml:a::b: c`, as the Go Collector does: the
/// value is YAML (`--set a.b=5` sets an int), and a key containing `.` cannot be addressed.
pub(crate) fn set_to_uri(arg: &str) -> Result<String, Error> {
    let Some((key, value)) = arg.split_once('=') else {
        return Err(Error::InvalidSet {
            arg: arg.to_owned(),
            reason: "missing equal sign; write `key.path=value`",
        });
    };
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(Error::InvalidSet {
            arg: arg.to_owned(),
            reason: "the key is empty or has an empty part",
        });
    }
    Ok(format!("yaml:{}: {value}", key.replace('.', KEY_DELIMITER)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_need_two_characters_and_a_leading_letter() {
        for good in ["env", "file", "https", "s3", "my+scheme", "a.b-c"] {
            assert!(is_valid_scheme(good), "{good}");
        }
        for bad in ["", "C", "1x", "-x", "a_b", "a b", "é1"] {
            assert!(!is_valid_scheme(bad), "{bad}");
        }
    }

    #[test]
    fn bare_paths_and_drive_letters_are_files() {
        assert_eq!(normalize_config_uri("config.yaml"), "file:config.yaml");
        assert_eq!(
            normalize_config_uri("/etc/otel.yaml"),
            "file:/etc/otel.yaml"
        );
        assert_eq!(normalize_config_uri(r"C:\otel.yaml"), r"file:C:\otel.yaml");
        assert_eq!(normalize_config_uri("./a:b.yaml"), "file:./a:b.yaml");
        assert_eq!(normalize_config_uri("env:CONFIG"), "env:CONFIG");
        assert_eq!(normalize_config_uri("https://x/y"), "https://x/y");
    }

    #[test]
    fn set_arguments_become_yaml_uris() {
        assert_eq!(
            set_to_uri("processors.batch.timeout=2s").unwrap(),
            "yaml:processors::batch::timeout: 2s"
        );
        assert_eq!(set_to_uri("a=b=c").unwrap(), "yaml:a: b=c");
        assert_eq!(set_to_uri("a=").unwrap(), "yaml:a: ");
        let error = set_to_uri("a.b").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid --set `a.b`: missing equal sign; write `key.path=value`"
        );
        assert!(set_to_uri("=x").is_err());
        assert!(set_to_uri("a..b=x").is_err());
    }
}
