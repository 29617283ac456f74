//! The `settings!` macro: one entry per setting, from which the
//! [`Settings`](super::Settings) struct, its `Default`, the key list, the
//! per-key setter, the secrets and the reference table of
//! `docs/settings.md` all follow.
//!
//! An entry reads
//!
//! ```text
//! /// Meaning (the field's rustdoc and the docs table's "meaning" cell).
//! name: Type = default_expr, Section, "default as documented", plain|secret, parser;
//! ```
//!
//! `parser` is a `fn(&Raw) -> Result<Type, String>` (see `load.rs`): it
//! parses and validates one value, from TOML or from the environment.
//! "default as documented" is checked against `default_expr` by a test.

/// Where a setting is documented: one table per section of
/// `docs/settings.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Counting and lockout.
    Lockout,
    /// The store.
    Storage,
    /// Client identity and privacy.
    Clients,
    /// Allow and deny lists.
    Lists,
    /// The lockout response.
    Responses,
    /// Access and failure logs.
    Logs,
    /// `axes serve` and its admin UI.
    Service,
}

impl Section {
    /// Every section, in the order of the docs.
    pub const ALL: [Section; 7] = [
        Section::Lockout,
        Section::Storage,
        Section::Clients,
        Section::Lists,
        Section::Responses,
        Section::Logs,
        Section::Service,
    ];

    /// The marker name in `docs/settings.md` (`<!-- settings: NAME -->`).
    pub fn marker(self) -> &'static str {
        match self {
            Section::Lockout => "lockout",
            Section::Storage => "storage",
            Section::Clients => "clients",
            Section::Lists => "lists",
            Section::Responses => "responses",
            Section::Logs => "logs",
            Section::Service => "service",
        }
    }
}

/// One setting as documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    /// The TOML key (`AXES_` + upper case in the environment).
    pub key: &'static str,
    /// The default as documented: a value in its TOML or environment form,
    /// or a word (`none`, `built-in`, `generated`) for an unset optional.
    pub default: &'static str,
    /// Whether the value is a secret: never shown in messages.
    pub secret: bool,
    /// Where it is documented.
    pub section: Section,
    /// The meaning as written in the definition (see [`Reference::doc`]).
    pub(super) doc: &'static str,
}

/// Defaults documented as a word rather than a value: the setting is unset.
pub const UNSET_WORDS: &[&str] = &["none", "built-in", "generated"];

/// The sentence added to the meaning of a secret setting.
pub const SECRET_NOTE: &str = "A secret: its value is never shown in messages.";

impl Reference {
    /// The meaning, one line of Markdown.
    pub fn doc(&self) -> String {
        self.doc.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The default as a table cell: a value in backticks, a word as is.
    pub fn default_cell(&self) -> String {
        if UNSET_WORDS.contains(&self.default) {
            self.default.to_owned()
        } else {
            format!("`{}`", self.default)
        }
    }

    /// The table row of `docs/settings.md`.
    pub fn row(&self) -> String {
        let mut meaning = self.doc();
        if self.secret {
            meaning.push(' ');
            meaning.push_str(SECRET_NOTE);
        }
        format!("| `{}` | {} | {meaning} |", self.key, self.default_cell())
    }
}

/// The table of one section of `docs/settings.md`, as generated from the
/// definition (header, separator, one row per setting; no final newline).
pub fn table(section: Section) -> String {
    let mut out = String::from("| setting | default | meaning |\n|---|---|---|");
    for r in super::REFERENCE.iter().filter(|r| r.section == section) {
        out.push('\n');
        out.push_str(&r.row());
    }
    out
}

/// Whether `key` is a setting whose value is a secret.
pub fn is_secret(key: &str) -> bool {
    super::REFERENCE.iter().any(|r| r.key == key && r.secret)
}

macro_rules! secret_flag {
    (secret) => {
        true
    };
    (plain) => {
        false
    };
}

macro_rules! push_secret {
    (secret, $value:expr, $out:ident) => {
        $out.extend($crate::settings::define::SecretValues::secret_values(
            &$value,
        ))
    };
    (plain, $value:expr, $out:ident) => {};
}

/// The values of a secret setting, for redaction.
pub trait SecretValues {
    /// Each value to hide.
    fn secret_values(&self) -> Vec<&str>;
}

impl SecretValues for super::Secret {
    fn secret_values(&self) -> Vec<&str> {
        vec![self.expose()]
    }
}

impl SecretValues for Option<super::Secret> {
    fn secret_values(&self) -> Vec<&str> {
        self.iter().map(super::Secret::expose).collect()
    }
}

impl SecretValues for Vec<String> {
    fn secret_values(&self) -> Vec<&str> {
        self.iter().map(String::as_str).collect()
    }
}

macro_rules! settings {
    ($(
        $(#[doc = $doc:literal])+
        $name:ident : $ty:ty = $default:expr,
            $section:ident, $shown:expr, $kind:ident, $parse:expr;
    )+) => {
        /// All settings, with their documented defaults
        /// (`docs/settings.md`, generated from the same definition).
        #[derive(Debug, Clone, PartialEq)]
        pub struct Settings {
            $(
                $(#[doc = $doc])+
                pub $name: $ty,
            )+
        }

        impl Default for Settings {
            fn default() -> Self {
                Self { $( $name: $default, )+ }
            }
        }

        /// Every setting key, in the order of `docs/settings.md`.
        pub const SETTING_KEYS: &[&str] = &[$( stringify!($name) ),+];

        /// Every setting as documented, in the order of `docs/settings.md`.
        pub const REFERENCE: &[define::Reference] = &[$(
            define::Reference {
                key: stringify!($name),
                default: $shown,
                secret: secret_flag!($kind),
                section: define::Section::$section,
                doc: concat!($( $doc, "\n" ),+),
            }
        ),+];

        impl Settings {
            /// Parses `raw` into the setting `key`: `None` when `key` is
            /// not a setting, else the parser's verdict.
            fn apply(&mut self, key: &str, raw: &load::Raw<'_>) -> Option<Result<(), String>> {
                match key {
                    $(
                        stringify!($name) => {
                            let parse: fn(&load::Raw<'_>) -> Result<$ty, String> = $parse;
                            Some(parse(raw).map(|value| self.$name = value))
                        }
                    )+
                    _ => None,
                }
            }

            /// The values of every secret setting (for a redactor: a
            /// secret never reaches a log line or a message).
            pub fn secret_values(&self) -> Vec<&str> {
                let mut out: Vec<&str> = Vec::new();
                $( push_secret!($kind, self.$name, out); )+
                out
            }
        }
    };
}

pub(super) use {push_secret, secret_flag, settings};
