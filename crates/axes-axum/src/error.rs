//! Errors of setting up the integration.

use std::fmt;
use std::path::PathBuf;

/// The settings could not be turned into a working layer.
#[derive(Debug)]
#[non_exhaustive]
pub enum LayerError {
    /// `client_ip_header` is not a valid HTTP header name.
    InvalidHeaderName(String),
    /// `lockout_template` could not be read.
    Template {
        /// The configured file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// `lockout_template` is not a valid template.
    TemplateSyntax {
        /// The configured file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for LayerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayerError::InvalidHeaderName(name) => {
                write!(
                    f,
                    "client_ip_header: `{name}` is not a valid HTTP header name"
                )
            }
            LayerError::TemplateSyntax { path, reason } => {
                write!(f, "lockout_template: {}: {reason}", path.display())
            }
            LayerError::Template { path, source } => {
                write!(
                    f,
                    "lockout_template: cannot read {}: {source}",
                    path.display()
                )
            }
        }
    }
}

impl std::error::Error for LayerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LayerError::InvalidHeaderName(_) | LayerError::TemplateSyntax { .. } => None,
            LayerError::Template { source, .. } => Some(source),
        }
    }
}
