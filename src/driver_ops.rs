//! The op numbers by which `src/wasm/driver.js` asks the browser backend's decisions (`wasm::driver`). Kept
//! target-independent so that a native test can check `driver.js` names the same numbers.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

/// Declares the ops as `pub(crate) const`s and `ALL`, the (name, number) list the test compares.
macro_rules! ops {
    ($($name:ident = $n:literal,)*) => {
        $(pub(crate) const $name: u32 = $n;)*
        #[cfg(test)]
        pub(crate) const ALL: &[(&str, u32)] = &[$((stringify!($name), $n),)*];
    };
}

ops! {
    ROUTE = 0,
    STATE = 1,
    PREPARE = 2,
    ADD_HEADERS = 3,
    AFTER_RESPONSE = 4,
    CLAIM = 5,
    LOCK_WAIT = 6,
    LOCK_TIMED_OUT = 7,
    AFTER_LOCK = 8,
    UNAUTHORISED_EVENT = 9,
    FAILED = 10,
    REFRESH_REQUEST = 11,
    OFFLINE = 12,
    AFTER_REFRESH = 13,
    REFRESHED = 14,
    HOOK = 15,
    FRONT = 16,
    EXPIRED = 17,
    TOKEN = 18,
    ERROR = 19,
    FAUNA_MIN = 20,
    BEARER = 21,
    FAUNA_STATUS = 22,
    FIELD = 23,
    ACCESS = 24,
    SIGN_OUT_REQUEST = 25,
    SIGN_OUT_STATUS = 26,
    SIGN_OUT_BODY = 27,
    SIGNED_OUT_EVENT = 28,
    STORAGE_LOCK = 29,
    SESSIONS_REQUEST = 30,
    SESSIONS_RESULT = 31,
    CLAIM_CHECK = 32,
    CLAIM_REFRESH = 33,
    TAB_MESSAGE = 34,
}

#[cfg(test)]
mod tests {
    /// `driver.js`'s `const NAME = N;` lines before its first blank line after the op list.
    fn js_ops() -> Vec<(String, u32)> {
        let js = include_str!("wasm/driver.js");
        let start = js.find("const ROUTE").expect("driver.js declares ROUTE");
        js[start..]
            .lines()
            .take_while(|l| l.starts_with("const "))
            .map(|l| {
                let rest = l.trim_start_matches("const ").trim_end_matches(';');
                let (name, n) = rest.split_once(" = ").expect("const NAME = N;");
                (name.to_string(), n.parse().expect("a number"))
            })
            .collect()
    }

    #[test]
    fn driver_js_names_the_same_op_numbers() {
        let rust: Vec<(String, u32)> = super::ALL
            .iter()
            .map(|(n, v)| (n.to_string(), *v))
            .collect();
        assert_eq!(js_ops(), rust);
    }
}
