//! PROTOCOL.md §5 test vectors that concern the Socket.IO codec, one test
//! per row (`vector_NN_<what>`), wire texts literal (Engine.IO `4` stripped).
use super::*;

#[test]
fn vector_11_comma_in_connect_query_is_recovered() {
    let p = dec(V4, "0/chat?tags=a,b,").unwrap();
    let t = Target::parse(p.nsp_str());
    assert_eq!(t.path, "/chat");
    let q = t.query.unwrap();
    assert_eq!(q.get("tags"), Some("a,b"));
    assert_eq!(q.encode(), "tags=a%2Cb");
}

#[test]
fn vector_12_connect_query_is_form_decoded() {
    let p = dec(V4, "0/chat?q=a%20b&q=c&x=%E2%82%AC,").unwrap();
    let t = Target::parse(p.nsp_str());
    assert_eq!(t.path, "/chat");
    let q = t.query.unwrap();
    let pairs: Vec<(&str, &str)> = q.0.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(pairs, [("q", "a b"), ("q", "c"), ("x", "€")]);
    assert_eq!(q.encode(), "q=a%20b&q=c&x=%E2%82%AC");
}

#[test]
fn vector_13_root_connect_with_query() {
    let p = dec(V4, "0/?token=abc,").unwrap();
    let t = Target::parse(p.nsp_str());
    assert_eq!(t.path, "/");
    assert_eq!(t.query.unwrap().get("token"), Some("abc"));
}

#[test]
fn vector_14_namespace_path_is_not_percent_decoded() {
    let p = dec(V4, "0/ch%61t,").unwrap();
    assert_eq!(p.nsp_str(), "/ch%61t");
    assert_eq!(Target::parse(p.nsp_str()).path, "/ch%61t");
}

#[test]
fn vector_40_unknown_type_is_rejected() {
    assert_eq!(dec(V5, "abc"), Err(ParseError::UnknownType(b'a')));
}

#[test]
fn vector_41_truncated_json_is_rejected() {
    assert_eq!(dec(V5, r#"2["ping2""#), Err(ParseError::InvalidJson));
    assert_eq!(dec(V4, r#"2["ping2""#), Err(ParseError::InvalidJson));
}

#[test]
fn vector_42_event_payload_must_be_an_array() {
    assert_eq!(dec(V5, "2{}"), Err(ParseError::InvalidPayload));
}

#[test]
fn vector_43_more_than_ten_attachments_is_rejected() {
    assert_eq!(dec(V5, r#"511-["x"]"#), Err(ParseError::InvalidAttachments));
}

#[test]
fn vector_44_zero_attachments_is_rejected() {
    assert_eq!(dec(V5, r#"50-["x"]"#), Err(ParseError::InvalidAttachments));
}

#[test]
fn vector_45_ack_id_above_2_pow_53_is_rejected() {
    assert_eq!(
        dec(V5, r#"212345678901234567890["a"]"#),
        Err(ParseError::InvalidAckId)
    );
}

#[test]
fn vector_49_connect_nsp_without_slash_is_root_with_junk() {
    assert_eq!(dec(V4, "0chat,"), Err(ParseError::InvalidJson));
    assert_eq!(dec(V5, "0chat,"), Err(ParseError::InvalidJson));
}
