//! Email delivery over SMTP ([`lettre`]): the password-reset and email-verification messages, from templates.
//!
//! Each message has three template files: `<kind>.subject`, `<kind>.txt` (plain text) and `<kind>.html`, where
//! `<kind>` is `password-reset` or `email-verification`. The defaults are built in (the files under
//! `server/templates/`); [`EmailConfig::templates_dir`] points at a folder whose files, where present, replace
//! them. Templates may use `{{app_name}}`, `{{email}}`, `{{link}}` and `{{valid_for}}` (values are HTML-escaped
//! in `.html` files).
//!
//! ```no_run
//! # async fn demo() -> Result<(), fauna_session_server::email::EmailError> {
//! use fauna_session_server::email::{EmailConfig, EmailKind, Mailer};
//! let mailer = Mailer::new(&EmailConfig {
//!     smtp_url: "smtp://127.0.0.1:1025".into(),
//!     website_domain: "https://app.example.com".into(),
//!     ..EmailConfig::default()
//! })?;
//! let link = mailer.link(EmailKind::PasswordReset, "token123");
//! mailer.send(EmailKind::PasswordReset, "user@example.com", &link).await?;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

/// Why an email could not be prepared or sent. Never carries the SMTP password.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// The SMTP URL does not parse or names an unknown scheme.
    #[error("bad SMTP URL: {0}")]
    SmtpUrl(String),
    /// An address (`from` or the recipient) is not a valid mailbox.
    #[error("bad email address {0:?}")]
    Address(String),
    /// A template file could not be read.
    #[error("email template {path}: {cause}")]
    Template {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        cause: String,
    },
    /// The message could not be built.
    #[error("email not built: {0}")]
    Build(String),
    /// The SMTP server could not be reached or refused the message.
    #[error("SMTP delivery failed: {0}")]
    Delivery(String),
}

/// Which message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    /// "Reset your password" with a link to `<website>/reset-password?token=…`.
    PasswordReset,
    /// "Verify your email" with a link to `<website>/verify-email?token=…`.
    EmailVerification,
}

impl EmailKind {
    /// Template file stem.
    pub fn template_name(self) -> &'static str {
        match self {
            Self::PasswordReset => "password-reset",
            Self::EmailVerification => "email-verification",
        }
    }

    /// Path of the website page the link opens, under the website base path.
    fn page(self) -> &'static str {
        match self {
            Self::PasswordReset => "reset-password",
            Self::EmailVerification => "verify-email",
        }
    }
}

/// Email settings. Start from [`EmailConfig::default`] and set at least `smtp_url` and `website_domain`.
///
/// ```
/// use fauna_session_server::email::EmailConfig;
/// let c = EmailConfig::default();
/// assert_eq!(c.website_base_path, "/auth");
/// assert_eq!(c.from, "no-reply@localhost");
/// ```
#[derive(Clone)]
pub struct EmailConfig {
    /// `smtp://host:port` (plain, e.g. a local relay), `smtp://host:587?tls=required` (STARTTLS),
    /// `smtps://user:pass@host` (implicit TLS, port 465 by default). User and password are URL-encoded.
    pub smtp_url: String,
    /// Sender, e.g. `My App <no-reply@example.com>` (default `no-reply@localhost`).
    pub from: String,
    /// Origin of the website the links open (e.g. `https://app.example.com`).
    pub website_domain: String,
    /// Path under the website where the auth pages live (default `/auth`, like SuperTokens).
    pub website_base_path: String,
    /// Name shown in the messages (default `Fauna Session`).
    pub app_name: String,
    /// Folder with template files replacing the built-in ones (see the module docs).
    pub templates_dir: Option<PathBuf>,
    /// Timeout of one SMTP conversation (default 10 s).
    pub timeout: Duration,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            smtp_url: String::new(),
            from: "no-reply@localhost".into(),
            website_domain: "http://localhost:3000".into(),
            website_base_path: "/auth".into(),
            app_name: "Fauna Session".into(),
            templates_dir: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// The URL without its password, for logs.
fn redacted_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((_, host)) => format!("{scheme}://<credentials>@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl std::fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailConfig")
            .field("smtp_url", &redacted_url(&self.smtp_url))
            .field("from", &self.from)
            .field("website_domain", &self.website_domain)
            .field("website_base_path", &self.website_base_path)
            .field("app_name", &self.app_name)
            .field("templates_dir", &self.templates_dir)
            .finish_non_exhaustive()
    }
}

/// The three parts of one message's template.
#[derive(Debug, Clone)]
struct Template {
    subject: String,
    text: String,
    html: String,
}

fn builtin(kind: EmailKind) -> Template {
    let (subject, text, html) = match kind {
        EmailKind::PasswordReset => (
            include_str!("../templates/password-reset.subject"),
            include_str!("../templates/password-reset.txt"),
            include_str!("../templates/password-reset.html"),
        ),
        EmailKind::EmailVerification => (
            include_str!("../templates/email-verification.subject"),
            include_str!("../templates/email-verification.txt"),
            include_str!("../templates/email-verification.html"),
        ),
    };
    Template {
        subject: subject.trim().to_owned(),
        text: text.to_owned(),
        html: html.to_owned(),
    }
}

/// `dir/<name>.<ext>` if it exists, else `default`.
fn read_or(
    dir: Option<&Path>,
    name: &str,
    ext: &str,
    default: String,
) -> Result<String, EmailError> {
    let Some(dir) = dir else {
        return Ok(default);
    };
    let path = dir.join(format!("{name}.{ext}"));
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(default),
        Err(e) => Err(EmailError::Template {
            path,
            cause: e.to_string(),
        }),
    }
}

fn load(kind: EmailKind, dir: Option<&Path>) -> Result<Template, EmailError> {
    let b = builtin(kind);
    let name = kind.template_name();
    Ok(Template {
        subject: read_or(dir, name, "subject", b.subject)?.trim().to_owned(),
        text: read_or(dir, name, "txt", b.text)?,
        html: read_or(dir, name, "html", b.html)?,
    })
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Replace `{{name}}` placeholders; `html` escapes the values.
fn render(template: &str, values: &[(&str, &str)], html: bool) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        let value = if html {
            escape_html(value)
        } else {
            (*value).to_owned()
        };
        out = out.replace(&format!("{{{{{name}}}}}"), &value);
    }
    out
}

/// "1 hour", "24 hours", "30 minutes".
fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (n, unit) = if secs >= 3600 && secs.is_multiple_of(3600) {
        (secs / 3600, "hour")
    } else if secs >= 60 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// Sends the account emails through one SMTP server. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    website: String,
    app_name: String,
    reset: Arc<Template>,
    verification: Arc<Template>,
    server: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .field("website", &self.website)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `config`: parses the URL and the sender, reads the templates. Connects only when sending
    /// (connections are pooled). Call it inside a Tokio runtime (the pool starts a task).
    pub fn new(config: &EmailConfig) -> Result<Self, EmailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp_url)
            .map_err(|e| EmailError::SmtpUrl(format!("{}: {e}", redacted_url(&config.smtp_url))))?
            .timeout(Some(config.timeout))
            .build();
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|_| EmailError::Address(config.from.clone()))?;
        let dir = config.templates_dir.as_deref();
        let base = config.website_base_path.trim().trim_end_matches('/');
        let base = if base.is_empty() || base.starts_with('/') {
            base.to_owned()
        } else {
            format!("/{base}")
        };
        Ok(Self {
            transport,
            from,
            website: format!("{}{base}", config.website_domain.trim_end_matches('/')),
            app_name: config.app_name.clone(),
            reset: Arc::new(load(EmailKind::PasswordReset, dir)?),
            verification: Arc::new(load(EmailKind::EmailVerification, dir)?),
            server: redacted_url(&config.smtp_url),
        })
    }

    /// The SMTP URL without credentials (for logs).
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The link a message of `kind` carries: `<website><base>/<page>?token=<token>&tenantId=public`, the shape
    /// the SuperTokens frontends read (`reset-password` or `verify-email`).
    pub fn link(&self, kind: EmailKind, token: &str) -> String {
        format!(
            "{}/{}?token={token}&tenantId=public",
            self.website,
            kind.page()
        )
    }

    /// The message of `kind` to `to` with `link`, valid for `valid_for`.
    pub fn message(
        &self,
        kind: EmailKind,
        to: &str,
        link: &str,
        valid_for: Duration,
    ) -> Result<Message, EmailError> {
        let t = match kind {
            EmailKind::PasswordReset => &self.reset,
            EmailKind::EmailVerification => &self.verification,
        };
        let to_box: Mailbox = to.parse().map_err(|_| EmailError::Address(to.to_owned()))?;
        let valid = human_duration(valid_for);
        let values = [
            ("app_name", self.app_name.as_str()),
            ("email", to),
            ("link", link),
            ("valid_for", valid.as_str()),
        ];
        Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject(render(&t.subject, &values, false))
            .multipart(MultiPart::alternative_plain_html(
                render(&t.text, &values, false),
                render(&t.html, &values, true),
            ))
            .map_err(|e| EmailError::Build(e.to_string()))
    }

    /// Build and send a message of `kind` to `to` carrying `link` (valid for 1 h in the text).
    pub async fn send(&self, kind: EmailKind, to: &str, link: &str) -> Result<(), EmailError> {
        self.send_valid_for(kind, to, link, Duration::from_secs(3600))
            .await
    }

    /// Like [`send`](Self::send), saying the link is valid for `valid_for`.
    pub async fn send_valid_for(
        &self,
        kind: EmailKind,
        to: &str,
        link: &str,
        valid_for: Duration,
    ) -> Result<(), EmailError> {
        let message = self.message(kind, to, link, valid_for)?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| EmailError::Delivery(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_escaped_in_html() {
        let v = [("email", "a<b>@x.io"), ("link", "http://x/?a=1&b=2")];
        assert_eq!(
            render("{{email}} {{link}}", &v, false),
            "a<b>@x.io http://x/?a=1&b=2"
        );
        assert_eq!(
            render("{{email}} {{link}}", &v, true),
            "a&lt;b&gt;@x.io http://x/?a=1&amp;b=2"
        );
    }

    #[test]
    fn durations_read_like_words() {
        assert_eq!(human_duration(Duration::from_secs(3600)), "1 hour");
        assert_eq!(human_duration(Duration::from_secs(86400)), "24 hours");
        assert_eq!(human_duration(Duration::from_secs(1800)), "30 minutes");
    }

    #[test]
    fn credentials_never_shown() {
        let c = EmailConfig {
            smtp_url: "smtps://user:hunter2@mail.example.com".into(),
            ..EmailConfig::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        let e = Mailer::new(&EmailConfig {
            smtp_url: "ftp://user:hunter2@x".into(),
            ..EmailConfig::default()
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("bad SMTP URL") && !e.contains("hunter2"), "{e}");
    }

    #[tokio::test]
    async fn links_and_templates() {
        let dir = std::env::temp_dir().join(format!("fs-tpl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("template dir");
        std::fs::write(
            dir.join("password-reset.subject"),
            "Reset for {{app_name}}\n",
        )
        .expect("write template");
        let m = Mailer::new(&EmailConfig {
            smtp_url: "smtp://127.0.0.1:2525".into(),
            website_domain: "https://app.example.com/".into(),
            website_base_path: "auth/".into(),
            app_name: "Demo".into(),
            templates_dir: Some(dir.clone()),
            ..EmailConfig::default()
        })
        .expect("mailer");
        let link = m.link(EmailKind::PasswordReset, "abc");
        assert_eq!(
            link,
            "https://app.example.com/auth/reset-password?token=abc&tenantId=public"
        );
        let msg = m
            .message(
                EmailKind::PasswordReset,
                "u@example.com",
                &link,
                Duration::from_secs(3600),
            )
            .expect("message");
        let raw = String::from_utf8_lossy(&msg.formatted()).into_owned();
        assert!(raw.contains("Subject: Reset for Demo"), "{raw}");
        assert!(raw.contains("text/html") && raw.contains("text/plain"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
