//! fauna-session: the browser half (placeholder; the real library lands with issue 4).
