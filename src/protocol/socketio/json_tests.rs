//! Tests of the JSON scanner: accepted and rejected documents, shapes, the
//! depth limit and the placeholder walk.
use super::*;

#[test]
fn well_formed_documents_are_accepted() {
    let ok: &[&str] = &[
        r#"{}"#,
        r#"[]"#,
        r#""""#,
        r#"0"#,
        r#"-0.5e+10"#,
        r#"1E3"#,
        r#"true"#,
        r#"null"#,
        " [ 1 , \"a\" , {\"k\" : [false, null]} ] \n",
        r#"["\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"]"#,
        // A lone surrogate: JSON.parse accepts it, so do we.
        r#"["\ud800"]"#,
        r#"{"a":{"b":{"c":[]}}}"#,
        "\"€ 😀\"",
    ];
    for doc in ok {
        assert!(scan(doc.as_bytes()).is_ok(), "should accept {doc:?}");
    }
}

#[test]
fn malformed_documents_are_rejected() {
    let bad: &[&str] = &[
        "",
        " ",
        "[",
        "]",
        "[1,]",
        "[,1]",
        "{,}",
        r#"{"a"}"#,
        r#"{"a":}"#,
        r#"{"a":1,}"#,
        r#"{1:2}"#,
        "[1 2]",
        "[] []",
        "01",
        "1.",
        ".5",
        "1e",
        "-",
        "+1",
        "tru",
        "truex",
        "nul",
        "\"abc",
        "\"a\u{1}b\"",
        r#""\x""#,
        r#""\u12G4""#,
        r#""\u12""#,
        "[\"ping2\"",
        "{]",
        "[}",
        "'a'",
        "NaN",
        "b,",
    ];
    for doc in bad {
        assert_eq!(scan(doc.as_bytes()), Err(Invalid), "should reject {doc:?}");
    }
}

#[test]
fn shape_reports_top_kind_and_array_head() {
    let s = scan(br#"["news",{"a":1}]"#).unwrap();
    assert_eq!(s.top, Kind::Array);
    assert_eq!(
        s.head,
        Some(Kind::Str {
            start: 2,
            end: 6,
            escaped: false
        })
    );
    let s = scan(br#"[[1],"x"]"#).unwrap();
    assert_eq!(s.head, Some(Kind::Array));
    let s = scan(b"[ 42 ]").unwrap();
    assert_eq!(s.head, Some(Kind::Number));
    let s = scan(b"[]").unwrap();
    assert_eq!((s.top, s.head), (Kind::Array, None));
    let s = scan(br#"{"a":"b"}"#).unwrap();
    assert_eq!((s.top, s.head), (Kind::Object, None));
    let s = scan(br#" "x\n" "#).unwrap();
    assert_eq!(
        s.top,
        Kind::Str {
            start: 2,
            end: 5,
            escaped: true
        }
    );
}

#[test]
fn nesting_deeper_than_the_limit_is_rejected_without_overflow() {
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(scan(ok.as_bytes()).is_ok());
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    assert_eq!(scan(deep.as_bytes()), Err(Invalid));
    let huge = "[{\"a\":".repeat(100_000);
    assert_eq!(scan(huge.as_bytes()), Err(Invalid));
}

#[test]
fn escaped_strings_compare_decoded() {
    assert!(str_eq(b"connect", false, "connect"));
    assert!(str_eq(br"conn\u0065ct", true, "connect"));
    assert!(!str_eq(br"\ud800", true, "connect"));
    assert_eq!(array_head_str(br#" ["ab",1]"#), Some((3, 5)));
    assert_eq!(array_head_str(br#"[1]"#), None);
}
