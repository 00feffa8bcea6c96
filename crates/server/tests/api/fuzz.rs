//! Random and mutated requests to every route: never a 5xx, never a panic
//! (the server keeps answering). Seeded, so a failure replays.

use super::*;

/// A small deterministic generator (xorshift64*): the seed names a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

const KEYS: &[&str] = &[
    "name",
    "format",
    "filter",
    "limit",
    "owner",
    "justification",
    "text",
    "person",
    "action",
    "resource",
    "status",
    "file_name",
    "title",
    "body_base64",
    "id",
    "emails",
    "phones",
    "notes",
    "company",
    "country",
    "classification",
    "custodian",
    "kind",
    "password",
    "current_password",
    "new_password",
    "annual_value",
    "notice_date",
    "last_day",
    "compartments",
];

const STRINGS: &[&str] = &[
    "",
    "C-1",
    "rep-a",
    "csv",
    "xlsx",
    "departing",
    "customer.read",
    "system",
    "../../etc/passwd",
    "' OR 1=1; --",
    "Robert'); DROP TABLE customers;--",
    "<script>alert(1)</script>",
    "=HYPERLINK(\"http://evil\",\"x\")",
    "+1",
    "@SUM(A1)",
    "\u{0000}",
    "\u{202e}gnp.exe",
    "ünïcödé ✓ 中文",
    "%00%2e%2e",
    "9999999999999999999999",
    "permit (principal, action, resource);",
    "2026-11-30",
    "not-a-date",
];

fn value(rng: &mut Rng, depth: u32) -> serde_json::Value {
    use serde_json::Value;
    match rng.below(if depth == 0 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => serde_json::json!(rng.pick(&[0i64, -1, 1, 2, 1000, 5001, i64::MAX, i64::MIN])),
        3 => serde_json::json!(1.5e300),
        4 | 5 => Value::String(rng.pick(STRINGS).to_owned()),
        6 => Value::Array((0..rng.below(4)).map(|_| value(rng, depth - 1)).collect()),
        _ => object(rng, depth - 1),
    }
}

fn object(rng: &mut Rng, depth: u32) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for _ in 0..rng.below(5) {
        map.insert(rng.pick(KEYS).to_owned(), value(rng, depth));
    }
    serde_json::Value::Object(map)
}

/// A body: random JSON, or random JSON with bytes mutated (cut, flipped, spliced).
fn body(rng: &mut Rng) -> Vec<u8> {
    let mut bytes = object(rng, 2).to_string().into_bytes();
    match rng.below(4) {
        0 => {}
        1 => bytes.truncate(rng.below(bytes.len() + 1)),
        2 => {
            for _ in 0..1 + rng.below(4) {
                if !bytes.is_empty() {
                    let i = rng.below(bytes.len());
                    bytes[i] = rng.next() as u8;
                }
            }
        }
        _ => {
            let i = rng.below(bytes.len() + 1);
            const JUNK: &[&[u8]] = &[b"\xff\xfe", b"}}}]", b"\"\\u0000\"", b"{\"a\":", b"nul"];
            let junk: &[u8] = rng.pick(JUNK);
            bytes.splice(i..i, junk.iter().copied());
        }
    }
    bytes
}

/// A concrete path for a route: its parameters filled with random segments,
/// sometimes with a random query.
fn path(rng: &mut Rng, template: &str) -> String {
    const SEGMENTS: &[&str] = &[
        "C-1",
        "C-2",
        "rep-a",
        "x",
        "D-00001",
        "X-nope",
        "system",
        "%2e%2e",
        "..%2f..",
        "%00",
        "%E2%80%AE",
        "a%20b",
        "%3Cscript%3E",
        "9999999999",
    ];
    let mut out = String::new();
    for part in template.split('/').filter(|p| !p.is_empty()) {
        out.push('/');
        if part.starts_with('{') {
            out.push_str(rng.pick(SEGMENTS));
        } else {
            out.push_str(part);
        }
    }
    if rng.below(3) == 0 {
        const QUERIES: &[&str] = &[
            "limit=-1",
            "limit=abc",
            "limit=5",
            "q=%27%20OR%201%3D1",
            "days=0",
            "days=99999999999",
            "owner=rep-a",
            "name=..%2Fx",
            "justification=%00",
            "x=1",
            "q=",
            "limit=1&limit=2",
        ];
        out.push('?');
        out.push_str(rng.pick(QUERIES));
    }
    out
}

#[tokio::test]
async fn random_and_mutated_requests_to_every_route_never_get_a_5xx() {
    let s = start().await;
    let mut c = s.login("rep-a").await;
    let mut rng = Rng(0x5EED_C0DE_1234_5678);
    let content_types = [
        Some("application/json"),
        Some("text/plain"),
        None,
        Some("application/octet-stream"),
    ];
    let mut sent = 0;
    for round in 0..10 {
        for (method, template) in server::ROUTES {
            // Logging out would only test the 401 path from then on.
            if *template == "/v1/auth/logout" {
                continue;
            }
            let p = path(&mut rng, template);
            let ct = if round % 2 == 0 {
                Some("application/json")
            } else {
                rng.pick(&content_types)
            };
            let b = body(&mut rng);
            let r = c
                .raw(method.parse().unwrap(), &p, ct, b.clone())
                .await
                .unwrap_or_else(|e| panic!("{method} {p}: the server stopped answering: {e}"));
            assert!(
                r.status < 500,
                "{method} {p} ({ct:?}) {:?} → {}: {}",
                String::from_utf8_lossy(&b),
                r.status,
                String::from_utf8_lossy(&r.body)
            );
            if r.status >= 400 {
                let json = r.json().unwrap_or_default();
                assert!(json["error"]["code"].is_string(), "{method} {p}: {json}");
            }
            sent += 1;
            // A random password change or revocation may end the session: log in again.
            if r.status == 401 {
                c = s.login("rep-a").await;
            }
        }
    }
    assert!(sent > 300, "{sent} requests");
    assert_eq!(s.client().health().await.unwrap()["status"], "ok");
}
