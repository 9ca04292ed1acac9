//! Tests of the namespace split, form decoding, re-encoding and auth mapping.
use super::*;
use proptest::prelude::*;
use serde_json::json;

/// nsp, expected path, expected query pairs.
type Split<'a> = (&'a str, &'a str, Option<&'a [(&'a str, &'a str)]>);

fn pairs(q: &Query) -> Vec<(&str, &str)> {
    q.0.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[test]
fn target_splits_at_the_first_question_mark() {
    let rows: &[Split] = &[
        ("/chat", "/chat", None),
        ("/", "/", None),
        ("/chat?", "/chat", Some(&[])),
        ("/chat?token=abc", "/chat", Some(&[("token", "abc")])),
        ("/?token=abc", "/", Some(&[("token", "abc")])),
        ("/chat?a=1?b=2", "/chat", Some(&[("a", "1?b=2")])),
        ("/ch%61t?x=%61", "/ch%61t", Some(&[("x", "a")])),
        ("/chat?tags=a,b", "/chat", Some(&[("tags", "a,b")])),
    ];
    for (nsp, path, query) in rows {
        let t = Target::parse(nsp);
        assert_eq!(t.path, *path, "{nsp}");
        assert_eq!(t.query.as_ref().map(pairs).as_deref(), *query, "{nsp}");
    }
}

#[test]
fn query_parse_follows_form_rules() {
    let rows: &[(&str, &[(&str, &str)])] = &[
        ("", &[]),
        (
            "a=1&b=x+y&c=%E2%82%AC",
            &[("a", "1"), ("b", "x y"), ("c", "€")],
        ),
        ("q=a%20b&q=c", &[("q", "a b"), ("q", "c")]),
        ("flag", &[("flag", "")]),
        ("flag&x=", &[("flag", ""), ("x", "")]),
        ("a=b=c", &[("a", "b=c")]),
        ("=v", &[("", "v")]),
        ("a=1&&b=2&", &[("a", "1"), ("b", "2")]),
        ("bad=%zz%4&p=100%", &[("bad", "%zz%4"), ("p", "100%")]),
        ("lower=%e2%82%ac", &[("lower", "€")]),
        ("k%2Bx=%2B+%26", &[("k+x", "+ &")]),
        // Invalid UTF-8 after decoding: replaced, not rejected.
        ("x=%FF%E2%82", &[("x", "\u{FFFD}\u{FFFD}")]),
        ("t=a,b", &[("t", "a,b")]),
    ];
    for (s, want) in rows {
        assert_eq!(pairs(&Query::parse(s)), *want, "{s}");
    }
}

#[test]
fn query_encode_uses_encode_uri_component_rules() {
    let q = |p: &[(&str, &str)]| {
        Query(
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    };
    let rows: &[(&[(&str, &str)], &str)] = &[
        (&[("q", "a b"), ("x", "€")], "q=a%20b&x=%E2%82%AC"),
        (&[("tags", "a,b")], "tags=a%2Cb"),
        (&[("keep", "AZaz09-_.!~*'()")], "keep=AZaz09-_.!~*'()"),
        (
            &[("esc", "/?#&=+:@$;%\"")],
            "esc=%2F%3F%23%26%3D%2B%3A%40%24%3B%25%22",
        ),
        (&[("k y", "")], "k%20y="),
        (&[], ""),
    ];
    for (pairs, want) in rows {
        assert_eq!(q(pairs).encode(), *want);
    }
}

#[test]
fn from_auth_flattens_values_by_policy() {
    let auth = json!({
        "token": "abc",
        "n": 42,
        "f": 1.5,
        "ok": true,
        "none": null,
        "nested": {"a": [1, "x"]},
        "list": ["a", "b"],
        "pid": "p1",
        "offset": "o1"
    });
    let auth = auth.as_object().unwrap();
    let q = Query::from_auth(auth, true);
    assert_eq!(q.get("token"), Some("abc"));
    assert_eq!(q.get("n"), Some("42"));
    assert_eq!(q.get("f"), Some("1.5"));
    assert_eq!(q.get("ok"), Some("true"));
    assert_eq!(q.get("none"), Some(""));
    assert_eq!(q.get("nested"), Some(r#"{"a":[1,"x"]}"#));
    assert_eq!(q.get("list"), Some(r#"["a","b"]"#));
    assert_eq!(q.get("pid"), None);
    assert_eq!(q.get("offset"), None);
    let kept = Query::from_auth(auth, false);
    assert_eq!(
        (kept.get("pid"), kept.get("offset")),
        (Some("p1"), Some("o1"))
    );
}

#[test]
fn to_auth_turns_repeated_keys_into_arrays() {
    let q = Query::parse("q=a%20b&q=c&x=%E2%82%AC&q=d&flag");
    let auth = serde_json::Value::Object(q.to_auth());
    assert_eq!(auth, json!({"q": ["a b", "c", "d"], "x": "€", "flag": ""}));
}

proptest! {
    #[test]
    fn encoded_queries_parse_back(p in prop::collection::vec((".{0,8}", ".{0,8}"), 0..6)) {
        let q = Query(p);
        prop_assert_eq!(Query::parse(&q.encode()), q);
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(s in ".{0,40}", raw in "[%+=&?a-f0-9,]{0,40}") {
        let _ = Target::parse(&s);
        let t = Target::parse(&format!("/x?{raw}"));
        let q = t.query.unwrap();
        // Decoding is idempotent through one encode round.
        prop_assert_eq!(Query::parse(&q.encode()), q.clone());
        let _ = q.to_auth();
    }
}
