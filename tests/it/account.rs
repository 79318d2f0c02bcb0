//! Login, private tokens, datasets and subjects: mockito for the exact requests and the
//! errors, the emulator for the whole way from a password to a finished analysis.

use crate::common::*;
use hautai::config::PollSchedule;
use hautai::emulator::{EmulatorConfig, Maturity};
use hautai::error::ErrorKind;
use hautai::model::NewSubject;
use hautai::{Session, SessionBuilder};
use mockito::Matcher;
use serde_json::json;

const PASSWORD: &str = "s3cret-Passw0rd";

fn login_answer() -> String {
    json!({
        "id": 1, "email": "me@clinic.example", "username": "me@clinic.example",
        "company_id": COMPANY, "token_access": LOGIN_TOKEN, "access_token": LOGIN_TOKEN,
        "refresh_token": "refresh-1", "is_verified": true, "profile": {}
    })
    .to_string()
}

fn builder_for(url: &str) -> SessionBuilder {
    SessionBuilder::default().base_url(url).retry(hautai::config::RetryPolicy::none())
}

#[test]
fn login_posts_the_credentials_without_auth_and_keeps_token_and_company() {
    let mut server = mockito::Server::new();
    let login = server
        .mock("POST", "/api/v1/auth/login/")
        .match_header("authorization", Matcher::Missing)
        .match_body(Matcher::Json(json!({"username": "me@clinic.example", "password": PASSWORD})))
        .with_body(login_answer())
        .expect(1)
        .create();
    let after = server
        .mock("GET", path(&format!("/batches/{BATCH}/")).as_str())
        .match_header("authorization", bearer(LOGIN_TOKEN).as_str())
        .with_body(fixture("batch_info.json"))
        .expect(1)
        .create();
    let session = builder_for(&server.url()).login("me@clinic.example", PASSWORD).unwrap();
    assert_eq!(session.company_id(), company());
    session.batch(batch()).unwrap();
    login.assert();
    after.assert();
    for shown in [format!("{session:?}"), format!("{:?}", builder_for(&server.url()))] {
        assert!(!shown.contains(LOGIN_TOKEN) && !shown.contains(PASSWORD), "{shown}");
    }
}

#[test]
fn wrong_credentials_and_refused_logins_are_distinct_and_never_show_the_password() {
    let mut server = mockito::Server::new();
    let cases = [
        (401, r#"{"detail": "No active account found with the given credentials"}"#.to_owned()),
        (403, r#"{"detail": "User is inactive."}"#.to_owned()),
        (400, format!(r#"{{"detail": "MFA is enabled.", "password": ["{PASSWORD} is not allowed"]}}"#)),
    ];
    for (status, body) in cases {
        let mock = server.mock("POST", "/api/v1/auth/login/").with_status(status).with_body(body).expect(1).create();
        let err = builder_for(&server.url()).login("me@clinic.example", PASSWORD).unwrap_err();
        mock.assert();
        mock.remove();
        let text = err.to_string();
        match status {
            401 | 403 => {
                assert!(matches!(err.kind(), ErrorKind::LoginRejected { .. }), "{err:?}");
                assert!(text.starts_with(&format!("login failed: wrong email or password ({status})")), "{text}");
            }
            _ => {
                assert!(matches!(err.kind(), ErrorKind::LoginRefused { status: 400, .. }), "{err:?}");
                assert!(text.contains("MFA is enabled.") && text.contains("use a private token"), "{text}");
            }
        }
        assert_eq!(err.status(), Some(status as u16));
        assert!(!text.contains(PASSWORD) && !format!("{err:?}").contains(PASSWORD), "{text}");
    }
    let err = Session::login("", PASSWORD).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidArgument(_)), "{err:?}");
}

#[test]
fn private_tokens_are_created_listed_and_revoked() {
    let mut server = mockito::Server::new();
    let create = server
        .mock("POST", "/api/v1/auth/private_tokens/")
        .match_header("authorization", bearer(TOKEN).as_str())
        .match_body(Matcher::Json(json!({"name": "intake", "expiration_time": "2027-06-01T00:00:00Z"})))
        .with_status(201)
        .with_body(
            r#"{"id": 7, "name": "intake", "expiration_time": "2027-06-01T00:00:00Z", "data": "pt_live_abcdef"}"#,
        )
        .create();
    let list = server
        .mock("GET", "/api/v1/auth/private_tokens/")
        .match_query(Matcher::Exact(String::new()))
        .with_body(json!({"count": 2, "next": "https://x/?page=2", "previous": null, "results": [{"id": 7, "name": "intake", "expiration_time": null}]}).to_string())
        .create();
    let page2 = server
        .mock("GET", "/api/v1/auth/private_tokens/")
        .match_query(Matcher::Exact("page=2".into()))
        .with_body(
            json!({"count": 2, "next": null, "previous": null, "results": [{"id": 8, "name": "old"}]}).to_string(),
        )
        .create();
    let revoke = server
        .mock("DELETE", "/api/v1/auth/private_tokens/7/")
        .match_header("authorization", bearer(TOKEN).as_str())
        .with_status(204)
        .create();
    let (session, clock) = session(&server.url());
    // The lifetime from now, which the session's clock says, up to 2027-06-01 at midnight UTC.
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_811_808_000);
    let lifetime = at.duration_since(hautai::clock::Clock::wall(&*clock)).unwrap();
    let token = session.create_private_token("intake", lifetime).unwrap();
    assert_eq!(token.id, 7);
    assert_eq!(token.data.as_ref().unwrap().expose(), "pt_live_abcdef");
    assert!(!format!("{token:?}").contains("pt_live_abcdef"));
    let ids: Vec<i64> = session.private_tokens().map(|t| t.unwrap().id).collect();
    assert_eq!(ids, [7, 8]);
    session.revoke_private_token(7).unwrap();
    for mock in [create, list, page2, revoke] {
        mock.assert();
    }
    for (name, lifetime) in [("", 86_400), ("t", 0), ("t", 3651 * 86_400)] {
        let refused = session.create_private_token(name, std::time::Duration::from_secs(lifetime));
        assert!(matches!(refused.map_err(hautai::Error::into_kind), Err(ErrorKind::InvalidArgument(_))), "{lifetime}");
    }
}

#[test]
fn datasets_and_subjects_are_created_and_listed() {
    let mut server = mockito::Server::new();
    let datasets = format!("/api/v1/companies/{COMPANY}/datasets/");
    let subjects = format!("/api/v1/companies/{COMPANY}/datasets/{BATCH}/subjects/");
    let create_dataset = server
        .mock("POST", datasets.as_str())
        .match_body(Matcher::Json(json!({"name": "intake 2026", "image_type_id": null})))
        .with_status(201)
        .with_body(format!(r#"{{"id": "{BATCH}", "name": "intake 2026"}}"#))
        .create();
    let list_datasets = server
        .mock("GET", datasets.as_str())
        .with_body(format!(r#"{{"count": 1, "next": null, "results": [{{"id": "{BATCH}", "name": "intake 2026"}}]}}"#))
        .create();
    let create_subject = server
        .mock("POST", subjects.as_str())
        .match_header("authorization", bearer(TOKEN).as_str())
        .match_body(Matcher::Json(json!({"name": "patient-0042", "birth_date": "1990-04-01", "biological_sex": null, "meta": {"site": 2}})))
        .with_status(201)
        .with_body(format!(r#"{{"id": "{SUBJECT}", "name": "patient-0042", "creation_time": "2026-11-28T10:00:00Z", "company": "{COMPANY}", "dataset": "{BATCH}"}}"#))
        .create();
    let list_subjects = server
        .mock("GET", subjects.as_str())
        .with_body(format!(
            r#"{{"count": 1, "next": null, "results": [{{"id": "{SUBJECT}", "dataset": {{"id": "{BATCH}"}}}}]}}"#
        ))
        .create();
    let (session, _) = session(&server.url());
    let dataset = session.create_dataset("intake 2026").unwrap();
    assert_eq!(dataset.id, batch());
    assert_eq!(session.datasets().map(|d| d.unwrap().id).collect::<Vec<_>>(), [batch()]);
    let new = NewSubject::new("patient-0042").birth_date("1990-04-01").meta(json!({"site": 2}));
    let created = session.create_subject(dataset.id, &new).unwrap();
    assert_eq!((created.id, created.dataset_id()), (subject(), Some(batch())));
    let listed: Vec<_> = session.subjects(dataset.id).map(|s| s.unwrap()).collect();
    assert_eq!(listed[0].dataset_id(), Some(batch()), "a dataset given as an object is read too");
    for mock in [create_dataset, list_datasets, create_subject, list_subjects] {
        mock.assert();
    }
    assert!(matches!(
        session.create_dataset(&"x".repeat(513)).map_err(hautai::Error::into_kind),
        Err(ErrorKind::InvalidArgument(_))
    ));
    assert!(matches!(
        session.create_subject(batch(), &NewSubject::new("")).map_err(hautai::Error::into_kind),
        Err(ErrorKind::InvalidArgument(_))
    ));
}

#[test]
fn from_a_password_to_a_finished_analysis_on_the_emulator() {
    let user = EmulatorConfig::new().maturity(Maturity::Polls(1)).user("nurse@clinic.example", "correct horse");
    let emulator = crate::common::emulator_with(user);
    let fast = |b: SessionBuilder| {
        b.base_url(emulator.base_url()).poll_schedule(PollSchedule::fixed(std::time::Duration::from_millis(10)))
    };
    let err = fast(SessionBuilder::default()).login("nurse@clinic.example", "wrong").unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::LoginRejected { status: 401, .. }), "{err:?}");

    let session = fast(SessionBuilder::default()).login("nurse@clinic.example", "correct horse").unwrap();
    assert_eq!(session.company_id(), emulator.company_id());
    let dataset = session.create_dataset("intake 2026").unwrap();
    let subject = session.create_subject(dataset.id, &NewSubject::new("patient-0042")).unwrap();
    assert!(session.datasets().any(|d| d.unwrap().id == dataset.id));
    assert_eq!(session.subjects(dataset.id).map(|s| s.unwrap().id).collect::<Vec<_>>(), [subject.id]);

    // A private token replaces the login token; the session keeps working with it.
    let token = session.create_private_token("intake-server", std::time::Duration::from_secs(86_400)).unwrap();
    session.set_token(token.data.unwrap().expose()).unwrap();
    let session = session.with_subject(subject.id);
    let photo = crate::common::files::photo(7, 3000);
    let results = session.run_full_analysis(&photo, &photo, &photo).unwrap();
    assert!(results.is_complete());

    let history = session.subject_parameters(subject.id).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].batch_uuid(), Some(results.batch_id()));
    assert_eq!(history[0].subject_uuid(), Some(subject.id));

    // Lists never carry token values; once revoked, the token no longer works.
    let listed: Vec<_> = session.private_tokens().map(|t| t.unwrap()).collect();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].data.is_none());
    session.revoke_private_token(listed[0].id).unwrap();
    let refused = session.subject_parameters(subject.id).unwrap_err();
    assert_eq!(refused.status(), Some(401));
}

#[test]
fn an_account_with_multi_factor_authentication_is_refused_on_the_emulator() {
    let emulator = crate::common::emulator_with(EmulatorConfig::new().mfa(true));
    let (email, password) = emulator.user();
    let err = SessionBuilder::default().base_url(emulator.base_url()).login(&email, &password).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::LoginRefused { status: 400, .. }), "{err:?}");
    assert!(err.to_string().contains("Multi-factor authentication is enabled"), "{err}");
}
