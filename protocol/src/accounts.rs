//! fauna-session's own accounts extension of the sign-out endpoint (not part of the SuperTokens protocol): which
//! sessions `POST <apiBasePath>/signout` ends, sent as `{"scope": …}`.
//!
//! A sign-out without a body (or with `{}`) is the protocol's own and ends the calling session only, so a
//! SuperTokens backend sees exactly what its SDK sends; a SuperTokens backend ignores the body.
//!
//! ```
//! use fauna_session_protocol::accounts::SignOutScope;
//! assert_eq!(SignOutScope::parse("others"), Some(SignOutScope::Others));
//! assert_eq!(SignOutScope::Global.as_str(), "global");
//! assert_eq!(SignOutScope::Others.body(), Some(r#"{"scope":"others"}"#));
//! assert_eq!(SignOutScope::Local.body(), None);
//! ```

/// The sign-out body's field naming the scope (its value is a [`SignOutScope::as_str`]).
pub const SCOPE: &str = "scope";

/// Which sessions a sign-out ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignOutScope {
    /// The calling session only (the protocol's sign-out, the default).
    #[default]
    Local,
    /// Every other session of the user; the calling session stays signed in.
    Others,
    /// Every session of the user, the calling session included.
    Global,
}

/// Writes [`SignOutScope::as_str`] and the request body of each scope from one table of wire names.
macro_rules! wire_names {
    ($($scope:ident => $name:literal),+ $(,)?) => {
        /// The wire name: `"local"`, `"others"` or `"global"`.
        pub fn as_str(self) -> &'static str {
            match self {
                $(SignOutScope::$scope => $name,)+
            }
        }

        /// `{"scope":"<name>"}`.
        fn scope_body(self) -> &'static str {
            match self {
                $(SignOutScope::$scope => concat!(r#"{"scope":""#, $name, r#""}"#),)+
            }
        }
    };
}

impl SignOutScope {
    /// Every scope, [`SignOutScope::Local`] first.
    pub const ALL: [SignOutScope; 3] = [
        SignOutScope::Local,
        SignOutScope::Others,
        SignOutScope::Global,
    ];

    wire_names! {
        Local => "local",
        Others => "others",
        Global => "global",
    }

    /// The scope of a wire name (exact, lower case).
    pub fn parse(name: &str) -> Option<SignOutScope> {
        SignOutScope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The JSON body of the sign-out request. `None` for [`SignOutScope::Local`]: the protocol's sign-out has no
    /// body, so a SuperTokens backend sees exactly what its own SDK sends. (A SuperTokens backend ignores the
    /// body, so there `Others` and `Global` end the calling session only.)
    pub fn body(self) -> Option<&'static str> {
        match self {
            SignOutScope::Local => None,
            other => Some(other.scope_body()),
        }
    }

    /// Whether the calling session ends (its tokens are cleared, and the browser fires `SIGN_OUT`).
    pub fn ends_this_session(self) -> bool {
        self != SignOutScope::Others
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn names_round_trip() {
        assert_eq!(SignOutScope::default(), SignOutScope::Local);
        for s in SignOutScope::ALL {
            assert_eq!(SignOutScope::parse(s.as_str()), Some(s));
        }
        for bad in ["", "Local", "GLOBAL", "other", "all", " local", "local "] {
            assert_eq!(SignOutScope::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn bodies_name_the_scope_in_its_field() {
        assert_eq!(SignOutScope::Local.body(), None);
        for s in [SignOutScope::Others, SignOutScope::Global] {
            let want = format!(r#"{{"{SCOPE}":"{}"}}"#, s.as_str());
            assert_eq!(s.body(), Some(want.as_str()));
        }
        assert_eq!(SignOutScope::Local.scope_body(), r#"{"scope":"local"}"#);
    }

    #[test]
    fn only_others_keeps_the_calling_session() {
        assert!(SignOutScope::Local.ends_this_session());
        assert!(!SignOutScope::Others.ends_this_session());
        assert!(SignOutScope::Global.ends_this_session());
    }
}
