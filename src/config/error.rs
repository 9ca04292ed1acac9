//! `ConfigError`: every way loading a configuration can fail, each naming
//! where (file, line, column or flag) and why. Also the helpers that turn a
//! byte offset or a dotted field path into a line number of the TOML text.
use std::fmt;
use std::path::PathBuf;

use toml::de::{DeTable, DeValue};

/// Why a configuration could not be loaded. The `Display` form is what the
/// operator sees on stderr, starting with the file name and line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read config file: {source}", path.display())]
    Read {
        /// The path as given.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML text is malformed, has an unknown key, or a value of the wrong
    /// type (toml's own message).
    #[error("{origin}:{line}:{column}: {reason}")]
    Parse {
        /// The file name (or `<command line>`).
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong.
        reason: String,
    },
    /// A value parsed but is not acceptable (`validate()`).
    #[error("{location}: `{field}`: {reason}")]
    Invalid {
        /// Where the value came from: `file:line`, `file`, or `--flag`.
        location: Location,
        /// The dotted field path, e.g. `proxy.upstreams[1]`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The command line itself is unusable (clap's message).
    #[error("{0}")]
    Usage(String),
}

impl ConfigError {
    /// The line the error points at, when it has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Parse { line, .. } => Some(*line),
            ConfigError::Invalid {
                location: Location::File { line, .. },
                ..
            } => *line,
            _ => None,
        }
    }
}

/// Where an invalid value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A config file; `line` when the key is present in it.
    File {
        /// The file name.
        origin: String,
        /// 1-based line of the key.
        line: Option<usize>,
    },
    /// A command-line flag, e.g. `--listen`.
    Flag(String),
    /// No file and no flag: a built-in default or a generated value.
    Defaults,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File {
                origin,
                line: Some(line),
            } => write!(f, "{origin}:{line}"),
            Location::File { origin, line: None } => write!(f, "{origin}"),
            Location::Flag(flag) => write!(f, "command line {flag}"),
            Location::Defaults => write!(f, "command line"),
        }
    }
}

/// A validation failure before it is given a location: the dotted field path
/// and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Dotted path, e.g. `server.listen` or `proxy.upstreams[0]`.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Invalid {
    /// Shorthand constructor.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.field, self.reason)
    }
}

/// 1-based (line, column) of byte `offset` in `text`; the column counts
/// characters. Offsets past the end or inside a character are clamped.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Turns toml's error into [`ConfigError::Parse`] with our own line:column.
pub(crate) fn from_toml(err: &toml::de::Error, text: &str, origin: &str) -> ConfigError {
    let (line, column) = err.span().map_or((1, 1), |span| line_col(text, span.start));
    ConfigError::Parse {
        origin: origin.to_string(),
        line,
        column,
        reason: err.message().trim().to_string(),
    }
}

/// The line of the key (or array element) named by a dotted `field` path
/// such as `proxy.flavor` or `proxy.upstreams[1]`. When the key itself is
/// absent, the line of its nearest present parent (e.g. the `[proxy]`
/// header); `None` when not even the top-level key is in the text.
pub fn line_of_field(text: &str, field: &str) -> Option<usize> {
    let root = DeTable::parse(text).ok()?;
    let mut table: &DeTable<'_> = root.get_ref();
    let mut span = None;
    let mut parts = field.split('.').peekable();
    while let Some(part) = parts.next() {
        let (key, index) = split_index(part);
        let Some((k, v)) = table.iter().find(|(k, _)| k.get_ref() == key) else {
            break;
        };
        span = Some(k.span());
        let mut value = v;
        if let Some(i) = index {
            let DeValue::Array(items) = value.get_ref() else {
                break;
            };
            let Some(item) = items.get(i) else { break };
            span = Some(item.span());
            value = item;
        }
        if parts.peek().is_none() {
            break;
        }
        match value.get_ref() {
            DeValue::Table(t) => table = t,
            _ => break,
        }
    }
    span.map(|s| line_col(text, s.start).0)
}

/// `upstreams[1]` → (`upstreams`, Some(1)); `flavor` → (`flavor`, None).
fn split_index(part: &str) -> (&str, Option<usize>) {
    if let Some(open) = part.find('[')
        && let Some(inner) = part[open + 1..].strip_suffix(']')
    {
        return (&part[..open], inner.parse().ok());
    }
    (part, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_and_characters_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        // 'é' is two bytes: the '=' after "bé " is character 4.
        assert_eq!(line_col(text, 10), (2, 4));
        assert_eq!(line_col(text, 1000), (3, 1));
    }

    #[test]
    fn line_of_field_finds_keys_in_tables_and_array_elements() {
        let text =
            "[server]\nlisten = \"x\"\n\n[proxy]\nupstreams = [\n  \"ws://a\",\n  \"ws://b\",\n]\n";
        assert_eq!(line_of_field(text, "server.listen"), Some(2));
        assert_eq!(line_of_field(text, "proxy.upstreams"), Some(5));
        assert_eq!(line_of_field(text, "proxy.upstreams[1]"), Some(7));
        assert_eq!(line_of_field(text, "proxy.flavor"), Some(4));
        assert_eq!(line_of_field(text, "log.level"), None);
    }

    #[test]
    fn line_of_field_finds_dotted_keys() {
        let text = "mode = \"proxy\"\nstandalone.jwt.required = true\n";
        assert_eq!(line_of_field(text, "standalone.jwt.required"), Some(2));
    }
}
