//! Recursive-descent parser for the FQL v10 subset: turns tokens into an [`Node`] tree.

use std::sync::Arc;

use crate::lexer::{SyntaxError, Tok, Token, tokenize};

/// A parsed expression with its byte span in the query text.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// The expression.
    pub expr: Expr,
    /// Byte span `(start, end)`.
    pub span: (usize, usize),
}

/// Expressions of the subset.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// Integer literal.
    Int(i64),
    /// Floating-point literal.
    Float(f64),
    /// String literal.
    Str(String),
    /// A variable, collection or module name.
    Ident(String),
    /// `{ a: 1 }`
    Object(Vec<(String, Node)>),
    /// `[1, 2]`
    Array(Vec<Node>),
    /// `obj.name` / `obj?.name`
    Field {
        /// Receiver.
        obj: Box<Node>,
        /// Field name.
        name: String,
        /// `?.`
        optional: bool,
    },
    /// `obj[index]` / `obj?.[index]`
    Index {
        /// Receiver.
        obj: Box<Node>,
        /// Index expression.
        index: Box<Node>,
        /// `?.[`
        optional: bool,
    },
    /// `callee(args)` / `callee?.(args)`
    Call {
        /// What is called (a method when it is a `Field`).
        callee: Box<Node>,
        /// Arguments.
        args: Vec<Node>,
        /// `?.(`
        optional: bool,
    },
    /// Postfix `!`.
    NonNull(Box<Node>),
    /// Prefix `!` or `-`.
    Unary {
        /// `"!"` or `"-"`.
        op: &'static str,
        /// Operand.
        expr: Box<Node>,
    },
    /// Binary operator.
    Binary {
        /// Operator text.
        op: &'static str,
        /// Left operand.
        lhs: Box<Node>,
        /// Right operand.
        rhs: Box<Node>,
    },
    /// `x => body` / `(a, b) => body`
    Lambda {
        /// Parameter names.
        params: Vec<String>,
        /// Body.
        body: Arc<Node>,
    },
    /// `{ let a = 1; a }` or the query's top level.
    Block(Vec<Stmt>),
    /// Projection: `obj { a, b { c } }`.
    Project {
        /// What is projected (a document, object, set or array).
        obj: Box<Node>,
        /// Fields, each with an optional nested projection.
        fields: Projection,
    },
    /// `if (cond) a else b`
    If {
        /// Condition.
        cond: Box<Node>,
        /// Then branch.
        then: Box<Node>,
        /// Else branch.
        otherwise: Option<Box<Node>>,
    },
}

impl Drop for Node {
    /// Drops deep trees (long `a.b.c…` or `1 + 1 + …` chains) without deep recursion.
    fn drop(&mut self) {
        let mut stack = Vec::new();
        take_children(&mut self.expr, &mut stack);
        while let Some(mut node) = stack.pop() {
            take_children(&mut node.expr, &mut stack);
        }
    }
}

fn take_children(expr: &mut Expr, out: &mut Vec<Node>) {
    let leaf = || Node {
        expr: Expr::Null,
        span: (0, 0),
    };
    let boxed =
        |b: &mut Box<Node>, out: &mut Vec<Node>| out.push(std::mem::replace(&mut **b, leaf()));
    match expr {
        Expr::Object(fields) => out.extend(fields.drain(..).map(|(_, n)| n)),
        Expr::Array(items) => out.append(items),
        Expr::Field { obj, .. } => boxed(obj, out),
        Expr::Index { obj, index, .. } => {
            boxed(obj, out);
            boxed(index, out);
        }
        Expr::Call { callee, args, .. } => {
            boxed(callee, out);
            out.append(args);
        }
        Expr::NonNull(e) | Expr::Unary { expr: e, .. } | Expr::Project { obj: e, .. } => {
            boxed(e, out)
        }
        Expr::Binary { lhs, rhs, .. } => {
            boxed(lhs, out);
            boxed(rhs, out);
        }
        Expr::Lambda { body, .. } => {
            let body = std::mem::replace(body, Arc::new(leaf()));
            if let Ok(n) = Arc::try_unwrap(body) {
                out.push(n);
            }
        }
        Expr::Block(stmts) => out.extend(stmts.drain(..).map(|s| match s {
            Stmt::Let(_, n) | Stmt::Expr(n) => n,
        })),
        Expr::If {
            cond,
            then,
            otherwise,
        } => {
            boxed(cond, out);
            boxed(then, out);
            if let Some(o) = otherwise {
                boxed(o, out);
            }
        }
        Expr::Null
        | Expr::Bool(_)
        | Expr::Int(_)
        | Expr::Float(_)
        | Expr::Str(_)
        | Expr::Ident(_) => {}
    }
}

/// Fields of a projection, each with an optional nested projection.
#[derive(Debug, Clone)]
pub(crate) struct Projection(pub Vec<(String, Option<Projection>)>);

/// A statement of a block.
#[derive(Debug, Clone)]
pub(crate) enum Stmt {
    /// `let name = value`
    Let(String, Node),
    /// An expression.
    Expr(Node),
}

/// The name the short-hand lambda `.field` binds its argument to.
pub(crate) const IMPLICIT_PARAM: &str = "$this";

/// Parses a whole query (a block of statements).
pub(crate) fn parse(src: &str) -> Result<Node, SyntaxError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        depth: 0,
    };
    let start = p.peek().start;
    let stmts = p.statements()?;
    if p.peek().kind != Tok::Eof {
        return Err(p.unexpected());
    }
    if stmts.is_empty() {
        return Err(SyntaxError {
            message: "Expected an expression".into(),
            span: (start, start),
        });
    }
    let end = p.toks[p.pos.saturating_sub(1)].end.max(start);
    Ok(Node {
        expr: Expr::Block(stmts),
        span: (start, end),
    })
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// Deepest expression nesting accepted (the evaluator's own limit is lower).
const MAX_DEPTH: usize = 128;

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "let" | "if" | "else" | "true" | "false" | "null" | "at" | "match" | "case" | "isa"
    )
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }

    fn peek_at(&self, n: usize) -> &Token {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(&self.peek().kind, Tok::Punct(q) if *q == p)
    }

    fn eat(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str) -> Result<Token, SyntaxError> {
        if self.is_punct(p) {
            Ok(self.bump())
        } else {
            Err(self.expected(&format!("`{p}`")))
        }
    }

    /// A syntax error at the current token.
    fn error_here(&self, message: impl Into<String>) -> SyntaxError {
        let t = self.peek();
        SyntaxError {
            message: message.into(),
            span: (t.start, t.end),
        }
    }

    /// "Expected <what>, found <current token>".
    fn expected(&self, what: &str) -> SyntaxError {
        self.error_here(format!(
            "Expected {what}, found {}",
            describe(&self.peek().kind)
        ))
    }

    fn unexpected(&self) -> SyntaxError {
        self.error_here(format!("Unexpected {}", describe(&self.peek().kind)))
    }

    fn prev_end(&self) -> usize {
        self.toks[self.pos.saturating_sub(1)].end
    }

    /// Statements until `}` or end of input.
    fn statements(&mut self) -> Result<Vec<Stmt>, SyntaxError> {
        let mut out = Vec::new();
        loop {
            while self.eat(";") {}
            if self.is_punct("}") || self.peek().kind == Tok::Eof {
                return Ok(out);
            }
            if !out.is_empty() && !self.peek().newline_before && !self.just_ate_semicolon() {
                return Err(self.unexpected());
            }
            if matches!(&self.peek().kind, Tok::Ident(s) if s == "let") {
                self.bump();
                let name = self.ident()?;
                self.expect("=")?;
                let value = self.expr()?;
                out.push(Stmt::Let(name, value));
            } else {
                out.push(Stmt::Expr(self.expr()?));
            }
        }
    }

    fn just_ate_semicolon(&self) -> bool {
        self.pos > 0 && self.toks[self.pos - 1].kind == Tok::Punct(";")
    }

    fn ident(&mut self) -> Result<String, SyntaxError> {
        match &self.peek().kind {
            Tok::Ident(s) if !is_keyword(s) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            _ => Err(self.expected("an identifier")),
        }
    }

    fn expr(&mut self) -> Result<Node, SyntaxError> {
        self.nested(Self::expr_inner)
    }

    /// Runs `parse` one nesting level deeper; past `MAX_DEPTH` the query is rejected instead of overflowing the
    /// stack.
    fn nested(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<Node, SyntaxError>,
    ) -> Result<Node, SyntaxError> {
        self.depth += 1;
        let r = if self.depth > MAX_DEPTH {
            Err(self.error_here("Expression nested too deeply"))
        } else {
            parse(self)
        };
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self) -> Result<Node, SyntaxError> {
        // Lambdas: `x => …`, `(a, b) => …`, `() => …`.
        if let Some(params) = self.lambda_params() {
            let start = self.peek().start;
            self.skip_lambda_head(&params);
            let body = self.expr()?;
            let span = (start, body.span.1);
            return Ok(Node {
                expr: Expr::Lambda {
                    params,
                    body: Arc::new(body),
                },
                span,
            });
        }
        self.binary(0)
    }

    fn lambda_params(&self) -> Option<Vec<String>> {
        match &self.peek().kind {
            Tok::Ident(s) if !is_keyword(s) && self.peek_at(1).kind == Tok::Punct("=>") => {
                Some(vec![s.clone()])
            }
            Tok::Punct("(") => {
                let mut params = Vec::new();
                let mut i = 1;
                if self.peek_at(i).kind == Tok::Punct(")") {
                    return (self.peek_at(2).kind == Tok::Punct("=>")).then_some(params);
                }
                loop {
                    match &self.peek_at(i).kind {
                        Tok::Ident(s) if !is_keyword(s) => params.push(s.clone()),
                        _ => return None,
                    }
                    i += 1;
                    match &self.peek_at(i).kind {
                        Tok::Punct(",") => i += 1,
                        Tok::Punct(")") => {
                            return (self.peek_at(i + 1).kind == Tok::Punct("=>"))
                                .then_some(params);
                        }
                        _ => return None,
                    }
                }
            }
            _ => None,
        }
    }

    fn skip_lambda_head(&mut self, params: &[String]) {
        if self.is_punct("(") {
            // `(` + params + commas + `)`
            let n = 2 + params.len() + params.len().saturating_sub(1);
            for _ in 0..n {
                self.bump();
            }
        } else {
            self.bump();
        }
        self.bump(); // `=>`
    }

    fn binary(&mut self, min_prec: u8) -> Result<Node, SyntaxError> {
        let mut lhs = self.unary()?;
        while let Tok::Punct(op) = self.peek().kind {
            if matches!(op, "|" | "&" | "^" | "**") {
                return Err(self.error_here(format!("Operator `{op}` is not emulated")));
            }
            let Some(prec) = precedence(op) else {
                break;
            };
            if prec < min_prec {
                break;
            }
            self.bump();
            let rhs = self.binary(prec + 1)?;
            let span = (lhs.span.0, rhs.span.1);
            lhs = Node {
                expr: Expr::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Node, SyntaxError> {
        let start = self.peek().start;
        for op in ["!", "-"] {
            if self.eat(op) {
                let expr = self.expr_guarded_unary()?;
                let span = (start, expr.span.1);
                return Ok(Node {
                    expr: Expr::Unary {
                        op,
                        expr: Box::new(expr),
                    },
                    span,
                });
            }
        }
        let primary = self.primary()?;
        self.postfix(primary)
    }

    fn expr_guarded_unary(&mut self) -> Result<Node, SyntaxError> {
        self.nested(Self::unary)
    }

    fn postfix(&mut self, mut node: Node) -> Result<Node, SyntaxError> {
        let start = node.span.0;
        loop {
            let t = self.peek().clone();
            let Tok::Punct(p) = t.kind else { break };
            node = match p {
                "." | "?." => {
                    self.bump();
                    let optional = p == "?.";
                    if optional && self.is_punct("(") {
                        self.bump();
                        let args = self.args()?;
                        Node {
                            expr: Expr::Call {
                                callee: Box::new(node),
                                args,
                                optional: true,
                            },
                            span: (start, self.prev_end()),
                        }
                    } else if optional && self.is_punct("[") {
                        self.bump();
                        let index = self.expr()?;
                        self.expect("]")?;
                        Node {
                            expr: Expr::Index {
                                obj: Box::new(node),
                                index: Box::new(index),
                                optional: true,
                            },
                            span: (start, self.prev_end()),
                        }
                    } else {
                        let name = self.field_name()?;
                        Node {
                            expr: Expr::Field {
                                obj: Box::new(node),
                                name,
                                optional,
                            },
                            span: (start, self.prev_end()),
                        }
                    }
                }
                "(" if !t.newline_before => {
                    self.bump();
                    let args = self.args()?;
                    Node {
                        expr: Expr::Call {
                            callee: Box::new(node),
                            args,
                            optional: false,
                        },
                        span: (start, self.prev_end()),
                    }
                }
                "[" if !t.newline_before => {
                    self.bump();
                    let index = self.expr()?;
                    self.expect("]")?;
                    Node {
                        expr: Expr::Index {
                            obj: Box::new(node),
                            index: Box::new(index),
                            optional: false,
                        },
                        span: (start, self.prev_end()),
                    }
                }
                "!" if !t.newline_before => {
                    self.bump();
                    Node {
                        expr: Expr::NonNull(Box::new(node)),
                        span: (start, self.prev_end()),
                    }
                }
                "{" if !t.newline_before => {
                    self.bump();
                    let fields = self.projection(0)?;
                    Node {
                        expr: Expr::Project {
                            obj: Box::new(node),
                            fields,
                        },
                        span: (start, self.prev_end()),
                    }
                }
                _ => break,
            };
        }
        Ok(node)
    }

    /// Projection fields after `{`, through `}`.
    fn projection(&mut self, depth: usize) -> Result<Projection, SyntaxError> {
        let mut fields = Vec::new();
        while !self.is_punct("}") {
            if depth > MAX_DEPTH {
                return Err(self.unexpected());
            }
            let name = self.field_name()?;
            if self.is_punct(":") {
                return Err(
                    self.error_here("Aliased projection fields (`name: expr`) are not emulated")
                );
            }
            let nested = if self.eat("{") {
                Some(self.projection(depth + 1)?)
            } else {
                None
            };
            fields.push((name, nested));
            if !self.eat(",") {
                break;
            }
        }
        self.expect("}")?;
        Ok(Projection(fields))
    }

    fn field_name(&mut self) -> Result<String, SyntaxError> {
        match &self.peek().kind {
            Tok::Ident(s) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            _ => Err(self.expected("a field name")),
        }
    }

    /// Arguments after `(`, through `)`. An argument starting with `.` is the short-hand
    /// lambda: `.where(.x == 1)` means `.where($this => $this.x == 1)`.
    fn args(&mut self) -> Result<Vec<Node>, SyntaxError> {
        let mut args = Vec::new();
        while !self.is_punct(")") {
            if self.is_punct(".") {
                let start = self.peek().start;
                let this = Node {
                    expr: Expr::Ident(IMPLICIT_PARAM.into()),
                    span: (start, start),
                };
                let chained = self.postfix(this)?;
                let body = self.binary_continue(chained)?;
                let span = (start, body.span.1);
                args.push(Node {
                    expr: Expr::Lambda {
                        params: vec![IMPLICIT_PARAM.into()],
                        body: Arc::new(body),
                    },
                    span,
                });
            } else {
                args.push(self.expr()?);
            }
            if !self.eat(",") {
                break;
            }
        }
        self.expect(")")?;
        Ok(args)
    }

    /// Continues a binary expression whose first operand is already parsed.
    fn binary_continue(&mut self, first: Node) -> Result<Node, SyntaxError> {
        // Re-run the precedence climb with `first` as the leftmost operand.
        let mut operands = vec![first];
        let mut ops: Vec<(&'static str, u8)> = Vec::new();
        while let Tok::Punct(op) = self.peek().kind {
            let Some(prec) = precedence(op) else {
                break;
            };
            self.bump();
            while let Some(&(top, tp)) = ops.last() {
                if tp >= prec {
                    ops.pop();
                    reduce(&mut operands, top);
                } else {
                    break;
                }
            }
            ops.push((op, prec));
            operands.push(self.unary()?);
        }
        while let Some((op, _)) = ops.pop() {
            reduce(&mut operands, op);
        }
        Ok(operands.pop().expect("one operand remains"))
    }

    fn primary(&mut self) -> Result<Node, SyntaxError> {
        let t = self.peek().clone();
        let span = (t.start, t.end);
        let expr = match t.kind {
            Tok::Int(i) => {
                self.bump();
                Expr::Int(i)
            }
            Tok::Float(f) => {
                self.bump();
                Expr::Float(f)
            }
            Tok::Str(s) => {
                self.bump();
                Expr::Str(s)
            }
            Tok::Ident(ref s) => match s.as_str() {
                "true" | "false" => {
                    self.bump();
                    Expr::Bool(s == "true")
                }
                "null" => {
                    self.bump();
                    Expr::Null
                }
                "if" => return self.if_expr(),
                "let" | "else" => return Err(self.unexpected()),
                "at" | "match" | "isa" | "case" => {
                    return Err(SyntaxError {
                        message: format!("`{s}` expressions are not emulated"),
                        span,
                    });
                }
                _ => {
                    self.bump();
                    Expr::Ident(s.clone())
                }
            },
            Tok::Punct("(") => {
                self.bump();
                let mut inner = self.expr()?;
                self.expect(")")?;
                inner.span = (t.start, self.prev_end());
                return Ok(inner);
            }
            Tok::Punct("[") => {
                self.bump();
                let mut items = Vec::new();
                while !self.is_punct("]") {
                    items.push(self.expr()?);
                    if !self.eat(",") {
                        break;
                    }
                }
                self.expect("]")?;
                return Ok(Node {
                    expr: Expr::Array(items),
                    span: (t.start, self.prev_end()),
                });
            }
            Tok::Punct("{") => return self.brace(),
            _ => return Err(self.unexpected()),
        };
        Ok(Node { expr, span })
    }

    fn if_expr(&mut self) -> Result<Node, SyntaxError> {
        let start = self.bump().start;
        self.expect("(")?;
        let cond = self.expr()?;
        self.expect(")")?;
        let then = self.expr()?;
        let otherwise = if matches!(&self.peek().kind, Tok::Ident(s) if s == "else") {
            self.bump();
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        Ok(Node {
            expr: Expr::If {
                cond: Box::new(cond),
                then: Box::new(then),
                otherwise,
            },
            span: (start, self.prev_end()),
        })
    }

    /// `{` starts an object literal (`{}`, `{ key: …`) or a block.
    fn brace(&mut self) -> Result<Node, SyntaxError> {
        let start = self.bump().start;
        let is_object = self.is_punct("}")
            || (matches!(self.peek().kind, Tok::Ident(_) | Tok::Str(_))
                && self.peek_at(1).kind == Tok::Punct(":"));
        if is_object {
            let mut fields = Vec::new();
            while !self.is_punct("}") {
                let key = match &self.peek().kind {
                    Tok::Ident(s) | Tok::Str(s) => s.clone(),
                    _ => return Err(self.unexpected()),
                };
                self.bump();
                self.expect(":")?;
                let value = self.expr()?;
                fields.push((key, value));
                if !self.eat(",") {
                    break;
                }
            }
            self.expect("}")?;
            return Ok(Node {
                expr: Expr::Object(fields),
                span: (start, self.prev_end()),
            });
        }
        let stmts = self.statements()?;
        self.expect("}")?;
        if stmts.is_empty() {
            return Err(SyntaxError {
                message: "Expected an expression".into(),
                span: (start, self.prev_end()),
            });
        }
        Ok(Node {
            expr: Expr::Block(stmts),
            span: (start, self.prev_end()),
        })
    }
}

/// How tightly a binary operator binds (higher first); `None` for what is not an emulated binary operator.
fn precedence(op: &str) -> Option<u8> {
    Some(match op {
        "??" => 1,
        "||" => 2,
        "&&" => 3,
        "==" | "!=" => 4,
        "<" | ">" | "<=" | ">=" => 5,
        "+" | "-" => 6,
        "*" | "/" | "%" => 7,
        _ => return None,
    })
}

fn reduce(operands: &mut Vec<Node>, op: &'static str) {
    let rhs = operands.pop().expect("rhs");
    let lhs = operands.pop().expect("lhs");
    let span = (lhs.span.0, rhs.span.1);
    operands.push(Node {
        expr: Expr::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        span,
    });
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Int(i) => format!("`{i}`"),
        Tok::Float(f) => format!("`{f}`"),
        Tok::Str(_) => "a string".into(),
        Tok::Punct(p) => format!("`{p}`"),
        Tok::Eof => "end of input".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Node {
        parse(s).unwrap_or_else(|e| panic!("{s}: {}", e.message))
    }

    #[test]
    fn parses_subset() {
        ok("1");
        ok(
            "let u = User.byId(uid)!\nToken.create({ document: u, ttl: Time.now().add(5, \"seconds\"), data: { session: h } })",
        );
        ok("Token.byDocument(User.byId(uid)).where(.data.session == h).forEach(.delete())");
        ok("User.all().where(x => x.name == 'a' && x.age != 3).map((x) => x.name).toArray()");
        ok("Query.token()!.delete()");
        ok("{ let a = 1; a }");
        ok("{}");
        ok("if (true) 1 else 2");
        ok("x?.y?.z");
        ok("[1, 2, { a: [3] }]");
        ok("User.all() { name, friend { name } }");
        ok("let t = Token.create({ document: u }) { id, secret }\nt");
        assert!(parse("x { a: .b }").is_err());
        assert!(parse("{ x ").is_err());
        assert!(parse("").is_err());
        assert!(parse("1 2").is_err());
        // Deep nesting is an error, not a stack overflow.
        let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(parse(&deep).is_err());
        assert!(parse(&"!".repeat(100_000)).is_err());
        assert!(parse(&"[".repeat(100_000)).is_err());
        assert!(parse(&"{ a: ".repeat(100_000)).is_err());
        let ok_deep = format!("{}1{}", "([".repeat(30), "])".repeat(30));
        assert!(parse(&ok_deep).is_ok());
    }

    #[test]
    fn precedence() {
        let n = ok("1 + 2 * 3 == 7 && true");
        let Expr::Block(stmts) = &n.expr else {
            panic!()
        };
        let Stmt::Expr(e) = &stmts[0] else { panic!() };
        assert!(matches!(e.expr, Expr::Binary { op: "&&", .. }));
        let n = ok("f(.a + 1 == 2)");
        let Expr::Block(stmts) = &n.expr else {
            panic!()
        };
        let Stmt::Expr(e) = &stmts[0] else { panic!() };
        let Expr::Call { args, .. } = &e.expr else {
            panic!()
        };
        let Expr::Lambda { body, .. } = &args[0].expr else {
            panic!()
        };
        assert!(matches!(body.expr, Expr::Binary { op: "==", .. }));
    }
}
