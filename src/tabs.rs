//! Tabs that agree: the message one tab sends the others of its origin when the session changes, and the
//! decisions of a cross-tab lock wait that never hangs.
//!
//! A sign-out, an `UNAUTHORISED`, a refresh or a new session is sent on the `BroadcastChannel` [`CHANNEL`] and, as
//! the fallback where that is missing, written to `localStorage` under [`STORAGE_KEY`] (other tabs get a `storage`
//! event). A tab can get one message both ways; [`Seen`] makes it fire once.
//!
//! ```
//! use fauna_session::tabs::{TabMessage, Seen};
//! use fauna_session::Event;
//! let m = TabMessage::new(&Event::SignOut, "tab-a", 7).unwrap();
//! let text = m.encode();
//! assert_eq!(text, "fs1 SIGN_OUT tab-a 7");
//! let got = TabMessage::decode(&text).unwrap();
//! assert_eq!(got.event(), Event::SignOut);
//! let mut seen = Seen::default();
//! assert!(seen.first_time(&got, "tab-b"));
//! assert!(!seen.first_time(&got, "tab-b")); // the same message again, through the other channel
//! assert!(!seen.first_time(&got, "tab-a")); // a tab ignores its own messages
//! ```

use alloc::string::String;
use alloc::vec::Vec;

use crate::event::Event;
use crate::state::{AfterLock, LocalSessionState};
use crate::text::push_u32;
use crate::text::split_once_byte;

/// Name of the `BroadcastChannel`.
pub const CHANNEL: &str = "fauna-session";
/// `localStorage` key of the `storage`-event fallback.
pub const STORAGE_KEY: &str = "fauna-session-tab-message";

/// What changed, as another tab needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TabChange {
    /// Signed out.
    SignOut,
    /// The session is gone (`sessionExpiredOrRevoked` carried along).
    Unauthorised {
        /// As in [`Event::Unauthorised`].
        session_expired_or_revoked: bool,
    },
    /// The session was refreshed.
    Refresh,
    /// A new session started.
    SessionCreated,
}

impl TabChange {
    fn word(self) -> &'static str {
        match self {
            TabChange::SignOut => "SIGN_OUT",
            TabChange::Unauthorised {
                session_expired_or_revoked: true,
            } => "UNAUTHORISED_REVOKED",
            TabChange::Unauthorised {
                session_expired_or_revoked: false,
            } => "UNAUTHORISED",
            TabChange::Refresh => "REFRESH_SESSION",
            TabChange::SessionCreated => "SESSION_CREATED",
        }
    }

    fn from_word(w: &str) -> Option<Self> {
        Some(match w {
            "SIGN_OUT" => TabChange::SignOut,
            "UNAUTHORISED_REVOKED" => TabChange::Unauthorised {
                session_expired_or_revoked: true,
            },
            "UNAUTHORISED" => TabChange::Unauthorised {
                session_expired_or_revoked: false,
            },
            "REFRESH_SESSION" => TabChange::Refresh,
            "SESSION_CREATED" => TabChange::SessionCreated,
            _ => return None,
        })
    }
}

/// One cross-tab message: what changed, which tab sent it, and that tab's message number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabMessage {
    change: TabChange,
    sender: String,
    seq: u32,
}

const VERSION: &str = "fs1";

impl TabMessage {
    /// The message for a local event, or `None` for events other tabs do not hear of: payload updates and claim
    /// failures (each tab learns those from its own responses), and `UNAUTHORISED` without
    /// `sessionExpiredOrRevoked` — a request made while the session was already known gone, whose end the tab that
    /// saw it sent (a second message would make every other tab fire `UNAUTHORISED` twice). `sender` must be
    /// non-empty and without spaces.
    pub fn new(event: &Event, sender: &str, seq: u32) -> Option<Self> {
        let change = match event {
            Event::SignOut => TabChange::SignOut,
            Event::Unauthorised {
                session_expired_or_revoked: true,
            } => TabChange::Unauthorised {
                session_expired_or_revoked: true,
            },
            Event::RefreshSession => TabChange::Refresh,
            Event::SessionCreated => TabChange::SessionCreated,
            Event::Unauthorised {
                session_expired_or_revoked: false,
            }
            | Event::AccessTokenPayloadUpdated
            | Event::ApiInvalidClaim { .. } => return None,
        };
        if !valid_sender(sender) {
            return None;
        }
        Some(TabMessage {
            change,
            sender: sender.into(),
            seq,
        })
    }

    /// `fs1 <CHANGE> <sender> <seq>`.
    #[allow(
        clippy::single_char_add_str,
        reason = "push(char) links the UTF-8 encoder into the wasm; push_str does not"
    )]
    pub fn encode(&self) -> String {
        let mut s = String::from(VERSION);
        s.push_str(" ");
        s.push_str(self.change.word());
        s.push_str(" ");
        s.push_str(&self.sender);
        s.push_str(" ");
        push_u32(&mut s, self.seq);
        s
    }

    /// Reads a message; `None` for anything else (another version, another library's key, garbage).
    pub fn decode(text: &str) -> Option<Self> {
        let (version, rest) = split_once_byte(text, b' ')?;
        let (change, rest) = split_once_byte(rest, b' ')?;
        let (sender, seq) = split_once_byte(rest, b' ')?;
        if version != VERSION || !valid_sender(sender) {
            return None;
        }
        let change = TabChange::from_word(change)?;
        let seq = parse_u32(seq)?;
        Some(TabMessage {
            change,
            sender: sender.into(),
            seq,
        })
    }

    /// What changed.
    pub fn change(&self) -> TabChange {
        self.change
    }

    /// The event the receiving tab fires.
    pub fn event(&self) -> Event {
        match self.change {
            TabChange::SignOut => Event::SignOut,
            TabChange::Unauthorised {
                session_expired_or_revoked,
            } => Event::Unauthorised {
                session_expired_or_revoked,
            },
            TabChange::Refresh => Event::RefreshSession,
            TabChange::SessionCreated => Event::SessionCreated,
        }
    }

    /// The sending tab's id.
    pub fn sender(&self) -> &str {
        &self.sender
    }
}

fn valid_sender(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic())
}

fn parse_u32(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n = 0u64;
    for b in s.bytes() {
        n = n * 10 + u64::from(b - b'0');
    }
    u32::try_from(n).ok()
}

/// How many senders [`Seen`] remembers (older ones are forgotten first).
const SEEN_SENDERS: usize = 32;

/// Remembers the last message number of each sending tab, so a message arriving through both the
/// `BroadcastChannel` and the `storage` event fires once.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    last: Vec<(String, u32)>,
}

impl Seen {
    /// True if `message` is new to the tab `me` (not its own, not seen before); records it.
    pub fn first_time(&mut self, message: &TabMessage, me: &str) -> bool {
        if message.sender == me {
            return false;
        }
        if let Some(i) = self.last.iter().position(|(s, _)| *s == message.sender) {
            let (_, seq) = self.last.remove(i);
            let new = message.seq > seq;
            self.last
                .push((message.sender.clone(), seq.max(message.seq)));
            return new;
        }
        if self.last.len() >= SEEN_SENDERS {
            self.last.remove(0);
        }
        self.last.push((message.sender.clone(), message.seq));
        true
    }
}

/// Whether a waiter for the refresh lock still needs it, looking at the frontend state `now` while it waits (each
/// round of the `localStorage` lock): not once another tab has refreshed or the session is gone, since holding the
/// lock would only tell it that ([`crate::state::after_lock`] says what it does instead). Without this, waiters
/// learn of a refresh one lock hand-over at a time; dozens of them took longer than a short-lived access token, so
/// the last ones retried with a token that had expired again and refreshed a second time.
pub fn still_needs_lock(pre: &LocalSessionState, now: &LocalSessionState) -> bool {
    crate::state::after_lock(pre, now) == AfterLock::Refresh
}

/// Bounds of a cross-tab lock wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LockWait {
    /// Longest wait for the lock (ms); then the waiter re-reads the frontend state and goes on.
    pub timeout_ms: f64,
    /// A `localStorage` lock whose holder has not refreshed it for this long (ms) belongs to a dead tab.
    pub stale_after_ms: f64,
}

impl Default for LockWait {
    /// 10 s wait, 5 s staleness (the holder refreshes its lock every second).
    fn default() -> Self {
        LockWait {
            timeout_ms: 10_000.0,
            stale_after_ms: 5_000.0,
        }
    }
}

/// Who holds the `localStorage` lock, as read from its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Holder {
    /// Nobody.
    Free,
    /// A tab that last refreshed the lock at this time (ms).
    RefreshedAt(f64),
    /// A value that cannot be read (corrupt, another format): nobody can release it, so it is stale.
    Unreadable,
}

/// The next step of a `localStorage` lock wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockStep {
    /// The lock is free: try to take it.
    Take,
    /// Another tab holds it: wait a little and look again.
    Wait,
    /// Its holder is dead: delete the lock, then look again.
    ClearStale,
    /// Waited long enough: give up (see [`after_lock_timeout`]).
    GiveUp,
}

impl LockWait {
    /// The step after waiting `waited_ms` with the lock in the state `holder` at `now_ms`.
    pub fn step(&self, waited_ms: f64, now_ms: f64, holder: Holder) -> LockStep {
        if waited_ms >= self.timeout_ms {
            return LockStep::GiveUp;
        }
        match holder {
            Holder::Free => LockStep::Take,
            Holder::Unreadable => LockStep::ClearStale,
            // A holder's time in the future (another tab's clock jumped) is taken as alive until it goes stale by
            // ours; a non-finite one is unreadable.
            Holder::RefreshedAt(t) if !t.is_finite() => LockStep::ClearStale,
            Holder::RefreshedAt(t) if now_ms - t > self.stale_after_ms => LockStep::ClearStale,
            Holder::RefreshedAt(_) => LockStep::Wait,
        }
    }

    /// True once a Web Locks wait of `waited_ms` should be abandoned.
    pub fn web_lock_timed_out(&self, waited_ms: f64) -> bool {
        waited_ms >= self.timeout_ms
    }
}

/// What a waiter does when the lock wait timed out: it re-reads the frontend state (`post`). If the session is
/// known gone it stops ([`AfterLock::SessionExpired`]); otherwise it goes on with its request as the state now is
/// ([`AfterLock::Retry`]) — never a refresh without the lock, which could spend a refresh token another tab is
/// using. A request that meets the session-expired status again waits once more, within its retry budget, so the
/// whole wait is bounded too.
pub fn after_lock_timeout(post: &LocalSessionState) -> AfterLock {
    match post {
        LocalSessionState::NotExists => AfterLock::SessionExpired,
        LocalSessionState::Exists(_) | LocalSessionState::MayExist => AfterLock::Retry,
    }
}
