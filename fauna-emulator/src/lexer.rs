//! Tokenizer for the FQL v10 subset.

/// A lexical token with its byte span in the query text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    /// What was read.
    pub kind: Tok,
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset after the last character.
    pub end: usize,
    /// Whether a line break separates this token from the previous one.
    pub newline_before: bool,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// An identifier or keyword.
    Ident(String),
    /// An integer literal.
    Int(i64),
    /// A floating-point literal.
    Float(f64),
    /// A string literal (escapes resolved).
    Str(String),
    /// Punctuation or an operator.
    Punct(&'static str),
    /// End of input.
    Eof,
}

/// A syntax error at a byte offset.
#[derive(Debug, Clone)]
pub(crate) struct SyntaxError {
    /// What is wrong.
    pub message: String,
    /// Byte span.
    pub span: (usize, usize),
}

const PUNCTS: [&str; 33] = [
    "?.", "??", "=>", "==", "!=", "<=", ">=", "&&", "||", "**", "{", "}", "(", ")", "[", "]", ",",
    ":", ";", ".", "!", "=", "<", ">", "+", "-", "*", "/", "%", "?", "|", "&", "^",
];

/// Splits FQL text into tokens.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, SyntaxError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut newline = false;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            newline = true;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if src[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if src[i..].starts_with("/*") {
            let Some(end) = src[i + 2..].find("*/") else {
                return Err(SyntaxError {
                    message: "Unterminated block comment".into(),
                    span: (i, src.len()),
                });
            };
            if src[i..i + 2 + end].contains('\n') {
                newline = true;
            }
            i += end + 4;
            continue;
        }
        let start = i;
        let kind = if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
            {
                i += 1;
            }
            Tok::Ident(src[start..i].to_string())
        } else if c.is_ascii_digit() {
            lex_number(src, &mut i)?
        } else if c == b'"' || c == b'\'' {
            Tok::Str(lex_string(src, &mut i)?)
        } else if let Some(p) = PUNCTS.iter().find(|p| src[i..].starts_with(**p)) {
            // `?.` followed by a digit is `? .5`, never optional chaining.
            if *p == "?." && bytes.get(i + 2).is_some_and(|b| b.is_ascii_digit()) {
                i += 1;
                Tok::Punct("?")
            } else {
                i += p.len();
                Tok::Punct(p)
            }
        } else {
            let ch = src[i..].chars().next().unwrap_or('?');
            return Err(SyntaxError {
                message: format!("Unexpected character `{ch}`"),
                span: (i, i + ch.len_utf8()),
            });
        };
        out.push(Token {
            kind,
            start,
            end: i,
            newline_before: newline,
        });
        newline = false;
    }
    out.push(Token {
        kind: Tok::Eof,
        start: src.len(),
        end: src.len(),
        newline_before: newline,
    });
    Ok(out)
}

fn lex_number(src: &str, i: &mut usize) -> Result<Tok, SyntaxError> {
    let bytes = src.as_bytes();
    let start = *i;
    let digits = |i: &mut usize| {
        while *i < bytes.len() && (bytes[*i].is_ascii_digit() || bytes[*i] == b'_') {
            *i += 1;
        }
    };
    if src[start..].starts_with("0x") || src[start..].starts_with("0X") {
        *i += 2;
        while *i < bytes.len() && (bytes[*i].is_ascii_hexdigit() || bytes[*i] == b'_') {
            *i += 1;
        }
        let text: String = src[start + 2..*i].chars().filter(|c| *c != '_').collect();
        return i64::from_str_radix(&text, 16)
            .map(Tok::Int)
            .map_err(|_| SyntaxError {
                message: "Invalid hexadecimal literal".into(),
                span: (start, *i),
            });
    }
    digits(i);
    let mut float = false;
    if *i + 1 < bytes.len() && bytes[*i] == b'.' && bytes[*i + 1].is_ascii_digit() {
        float = true;
        *i += 1;
        digits(i);
    }
    if *i < bytes.len() && (bytes[*i] == b'e' || bytes[*i] == b'E') {
        let save = *i;
        *i += 1;
        if *i < bytes.len() && (bytes[*i] == b'+' || bytes[*i] == b'-') {
            *i += 1;
        }
        if *i < bytes.len() && bytes[*i].is_ascii_digit() {
            float = true;
            digits(i);
        } else {
            *i = save;
        }
    }
    let text: String = src[start..*i].chars().filter(|c| *c != '_').collect();
    let err = || SyntaxError {
        message: format!("Invalid number literal `{}`", &src[start..*i]),
        span: (start, *i),
    };
    if float {
        text.parse().map(Tok::Float).map_err(|_| err())
    } else {
        text.parse().map(Tok::Int).map_err(|_| err())
    }
}

fn lex_string(src: &str, i: &mut usize) -> Result<String, SyntaxError> {
    let start = *i;
    let quote = src.as_bytes()[start] as char;
    *i += 1;
    let mut out = String::new();
    let mut chars = src[*i..].char_indices();
    let unterminated = || SyntaxError {
        message: "Unterminated string literal".into(),
        span: (start, src.len()),
    };
    loop {
        let Some((off, ch)) = chars.next() else {
            return Err(unterminated());
        };
        match ch {
            c if c == quote => {
                *i += off + 1;
                return Ok(out);
            }
            '#' if quote == '"' && src[*i + off..].starts_with("#{") => {
                return Err(SyntaxError {
                    message: "String interpolation (`#{…}`) is not emulated".into(),
                    span: (*i + off, *i + off + 2),
                });
            }
            '\\' => {
                let Some((_, esc)) = chars.next() else {
                    return Err(unterminated());
                };
                match esc {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'v' => out.push('\u{b}'),
                    '0' => out.push('\0'),
                    '\\' | '\'' | '"' | '#' | '`' => out.push(esc),
                    'u' => {
                        let rest = chars.as_str();
                        let (hex, used) = if let Some(body) = rest.strip_prefix('{') {
                            let Some(close) = body.find('}') else {
                                return Err(unterminated());
                            };
                            (&body[..close], close + 2)
                        } else {
                            (rest.get(..4).unwrap_or(""), 4)
                        };
                        let ch = u32::from_str_radix(hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or_else(|| SyntaxError {
                                message: "Invalid unicode escape".into(),
                                span: (*i + off, *i + off + 2 + used),
                            })?;
                        out.push(ch);
                        for _ in 0..rest[..used].chars().count() {
                            chars.next();
                        }
                    }
                    other => {
                        return Err(SyntaxError {
                            message: format!("Invalid escape `\\{other}`"),
                            span: (*i + off, *i + off + 1 + other.len_utf8()),
                        });
                    }
                }
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(
            kinds("User.byId('1')!?.x == 2.5"),
            vec![
                Tok::Ident("User".into()),
                Tok::Punct("."),
                Tok::Ident("byId".into()),
                Tok::Punct("("),
                Tok::Str("1".into()),
                Tok::Punct(")"),
                Tok::Punct("!"),
                Tok::Punct("?."),
                Tok::Ident("x".into()),
                Tok::Punct("=="),
                Tok::Float(2.5),
                Tok::Eof
            ]
        );
        assert_eq!(
            kinds(r#""a\n\u{41}\u0042'" // c"#),
            vec![Tok::Str("a\nAB'".into()), Tok::Eof]
        );
        assert!(tokenize("'abc").is_err());
        assert!(tokenize("\"#{x}\"").is_err());
    }
}
