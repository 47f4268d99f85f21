//! String helpers for the wasm build's size: byte-level searches for ASCII delimiters, decimal digits without
//! `core::fmt`, and `Display` written from an error's `message()`.
//!
//! An ASCII byte never occurs inside a multi-byte UTF-8 sequence, so every index these return is a char boundary.
//! They replace `str`'s pattern API (`find`, `split`, `split_once`, char `trim_*`), whose searchers and `memchr`
//! cost about 2 KB of wasm.

use alloc::string::String;

/// `impl Display` from the type's `message()`, so each error text is written once (the JavaScript errors use
/// `message()`, Rust callers `Display`; the no_std build never links the `Display` impls).
macro_rules! display_from_message {
    ($($t:ty),+) => {$(
        impl core::fmt::Display for $t {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(&self.message())
            }
        }
        impl core::error::Error for $t {}
    )+};
}
pub(crate) use display_from_message;

pub(crate) fn trim(s: &str) -> &str {
    s.trim_ascii()
}

// Byte-level helpers for ASCII delimiters. An ASCII byte never occurs inside a multi-byte UTF-8 sequence, so every
// index they return is a char boundary. They replace `str`'s pattern API (`find`, `split`, `split_once`, char
// `trim_*`), whose searchers and `memchr` cost about 2 KB of wasm.

/// Index of the first byte of `s` that is one of `set` (plain loops: no generic closures, no `memchr`).
pub(crate) fn find_any(s: &str, set: &[u8]) -> Option<usize> {
    for (i, &c) in s.as_bytes().iter().enumerate() {
        for &t in set {
            if c == t {
                return Some(i);
            }
        }
    }
    None
}

/// Index of the last byte `b` in `s`.
#[cfg(not(target_arch = "wasm32"))] // only the native URL parser (`scope::parse_rest`) uses it
pub(crate) fn rfind_byte(s: &str, b: u8) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = bytes.len();
    while i > 0 {
        i -= 1;
        if bytes.get(i) == Some(&b) {
            return Some(i);
        }
    }
    None
}

/// `s.split_once(b)` for an ASCII `b`.
pub(crate) fn split_once_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = find_any(s, &[b])?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// `s.rsplit_once(b)` for an ASCII `b`.
#[cfg(not(target_arch = "wasm32"))] // only the native URL parser (`scope::parse_rest`) uses it
pub(crate) fn rsplit_once_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = rfind_byte(s, b)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// `s.contains(b)` for an ASCII `b`.
pub(crate) fn has_byte(s: &str, b: u8) -> bool {
    find_any(s, &[b]).is_some()
}

/// `s.trim_end_matches(b)` for an ASCII `b`.
pub(crate) fn trim_end_byte(s: &str, b: u8) -> &str {
    let mut end = s.len();
    while end > 0 && s.as_bytes().get(end - 1) == Some(&b) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// `s.trim_start_matches(b)` for an ASCII `b`.
pub(crate) fn trim_start_byte(s: &str, b: u8) -> &str {
    let mut start = 0;
    while s.as_bytes().get(start) == Some(&b) {
        start += 1;
    }
    s.get(start..).unwrap_or("")
}

/// Parses decimal digits (at most 5) without `str::parse` (keeps the wasm build small).
#[cfg(not(target_arch = "wasm32"))] // only the native URL parser (`scope::parse_rest`) uses it
pub(crate) fn small_number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 5 {
        return None;
    }
    let mut n = 0u32;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(b - b'0');
    }
    Some(n)
}

/// True if `haystack` contains `needle` (a plain byte search, smaller than `str::contains` in wasm).
pub(crate) fn contains(haystack: &str, needle: &str) -> bool {
    needle.is_empty()
        || haystack
            .as_bytes()
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

/// Appends the decimal digits of `n` (no `core::fmt`, keeps the wasm build small).
pub(crate) fn push_u32(s: &mut String, mut n: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // ASCII digits; `push_str` of one-byte slices avoids `push(char)`'s UTF-8 encoder.
    for &b in buf.get(i..).unwrap_or(&[]) {
        let d = usize::from(b - b'0');
        s.push_str("0123456789".get(d..=d).unwrap_or(""));
    }
}

// Native only: two of the helpers are (the native URL parser's).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn byte_helpers_match_the_str_pattern_api() {
        let inputs = [
            "", ".", "..", "a.b.c", ".a.", "é.ü;x", "x;y", ";", "00080", "000", "ab==", "==",
            "a@b@c", "[::1]:8",
        ];
        for s in inputs {
            for b in [b'.', b';', b'0', b'=', b'@', b']'] {
                let c = char::from(b);
                assert_eq!(split_once_byte(s, b), s.split_once(c), "{s:?} {c:?}");
                assert_eq!(rsplit_once_byte(s, b), s.rsplit_once(c), "{s:?} {c:?}");
                assert_eq!(has_byte(s, b), s.contains(c), "{s:?} {c:?}");
                assert_eq!(
                    trim_start_byte(s, b),
                    s.trim_start_matches(c),
                    "{s:?} {c:?}"
                );
                assert_eq!(trim_end_byte(s, b), s.trim_end_matches(c), "{s:?} {c:?}");
            }
            let ws = alloc::format!(" \t{s}\n\r\x0c");
            assert_eq!(
                trim(&ws),
                ws.trim_matches(|c: char| c.is_ascii_whitespace())
            );
            assert_eq!(contains(s, "a."), s.contains("a."));
        }
    }

    #[test]
    fn digits() {
        for n in [0u32, 7, 10, 401, 65535, u32::MAX] {
            let mut s = String::from("x");
            push_u32(&mut s, n);
            assert_eq!(s, alloc::format!("x{n}"));
        }
        assert_eq!(small_number("00080"), Some(80));
        assert_eq!(small_number("123456"), None);
        assert_eq!(small_number(""), None);
        assert_eq!(small_number("1a"), None);
    }
}
