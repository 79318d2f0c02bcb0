//! Walking the batch list: `next` links contribute only their query, on our own host.

use crate::common::*;
use hautai::model::BatchQuery;
use mockito::Matcher;
use serde_json::json;

fn page(ids: &[u32], next: Option<&str>) -> String {
    let results: Vec<_> =
        ids.iter().map(|i| json!({"id": format!("00000000-0000-0000-0000-{i:012}"), "images": null})).collect();
    json!({"count": 5, "next": next, "previous": null, "results": results}).to_string()
}

#[test]
fn three_pages_are_walked_on_our_host_even_when_next_names_another() {
    let mut server = mockito::Server::new();
    let list = path("/batches/");
    let first = server
        .mock("GET", list.as_str())
        .match_query(Matcher::Exact(format!("page_size=2&subject_id={SUBJECT}")))
        .with_body(page(&[1, 2], Some(&format!("http://evil.example{list}?page=2&page_size=2&subject_id={SUBJECT}"))))
        .expect(1)
        .create();
    let second = server
        .mock("GET", list.as_str())
        .match_query(Matcher::Exact(format!("page=2&page_size=2&subject_id={SUBJECT}")))
        .match_header("authorization", "Bearer tok_secret_1234567890")
        .with_body(page(&[3, 4], Some("https://api.example.org/accounts/?page=3&page_size=2")))
        .expect(1)
        .create();
    let third = server
        .mock("GET", list.as_str())
        .match_query(Matcher::Exact("page=3&page_size=2".into()))
        .with_body(page(&[5], None))
        .expect(1)
        .create();
    let (session, _) = session(&server.url());
    let ids: Vec<String> = session
        .batches(&BatchQuery::new().page_size(2).subject_id(subject()))
        .map(|b| b.unwrap().id.to_string())
        .collect();
    assert_eq!(ids.len(), 5);
    for (i, id) in ids.iter().enumerate() {
        assert!(id.ends_with(&format!("{:012}", i + 1)), "{ids:?}");
    }
    first.assert();
    second.assert();
    third.assert();
}

/// A batch list whose first page (one item) links to page 2, answered as `second` says.
fn first_page_then(server: &mut mockito::ServerGuard, second: impl FnOnce(mockito::Mock) -> mockito::Mock) {
    let list = path("/batches/");
    server
        .mock("GET", list.as_str())
        .match_query(Matcher::Exact(String::new()))
        .with_body(page(&[1], Some("/x?page=2")))
        .create();
    second(server.mock("GET", list.as_str()).match_query(Matcher::Exact("page=2".into()))).create();
}

#[test]
fn an_empty_page_ends_the_walk() {
    let mut server = mockito::Server::new();
    first_page_then(&mut server, |second| second.with_body(page(&[], Some("/x?page=3"))));
    let list = path("/batches/");
    let third = server.mock("GET", list.as_str()).match_query(Matcher::Exact("page=3".into())).expect(0).create();
    let (session, _) = session(&server.url());
    assert_eq!(session.batches(&BatchQuery::new()).count(), 1);
    third.assert();
}

#[test]
fn a_next_link_pointing_back_does_not_loop() {
    let mut server = mockito::Server::new();
    let list = path("/batches/");
    let looping = server
        .mock("GET", list.as_str())
        .match_query(Matcher::Exact("page=1".into()))
        .with_body(page(&[1], Some("/x?page=1")))
        .expect(1)
        .create();
    let (session, _) = session(&server.url());
    assert_eq!(session.batches(&BatchQuery::new().page(1)).count(), 1);
    looping.assert();
}

#[test]
fn an_error_is_yielded_once_and_ends_the_walk() {
    let mut server = mockito::Server::new();
    first_page_then(&mut server, |second| second.with_status(404).with_body(r#"{"detail": "Invalid page."}"#));
    let (session, _) = session(&server.url());
    let items: Vec<_> = session.batches(&BatchQuery::new()).collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert_eq!(items[1].as_ref().unwrap_err().status(), Some(404));
}
