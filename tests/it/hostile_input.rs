//! Hostile and bad input: every model decodes arbitrary JSON without panicking, lenient
//! decoding survives mutations of the seed's examples, and public entry points turn bad
//! arguments into errors.

use crate::common::files::TempDir;
use crate::common::fixture;
use hautai::error::ErrorKind;
use hautai::model::{Analysis, BatchInfo, BatchSummary, InitiateUpload, Page, UploadTargets};
use hautai::{BatchResults, Images, Parameter, Session, Side};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Any JSON value: scalars, unicode and long strings, nested arrays and objects.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        "[a-z_]{1,12}".prop_map(Value::String),
        (0usize..20_000).prop_map(|n| Value::String("x".repeat(n))),
    ];
    leaf.prop_recursive(6, 256, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,20}|image_batch_id|parameters|all_algorithms_calculated|detection_errors|front|id|url|headers|results|count|next", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Decodes `value` as every model (from the value, without copying it, and from its
/// text, as the client does) and uses what decodes: accessors, `Debug`.
fn decode_everything(value: &Value) {
    use serde::Deserialize;
    if let Ok(results) = BatchResults::deserialize(value) {
        let _ = (results.is_complete(), results.detection_errors(), format!("{results:?}"));
        for (_, p) in results.parameters() {
            let _ = (p.tag(), p.score(), p.number("amount"), p.field("masks"));
        }
    }
    let _ = Vec::<Analysis>::deserialize(value).map(|v| v.len());
    let _ = BatchInfo::deserialize(value).map(|v| format!("{v:?}"));
    let _ = Page::<BatchSummary>::deserialize(value).map(|v| v.results.len());
    let _ = UploadTargets::deserialize(value).map(|t| (format!("{t:?}"), t.iter().count()));
    let _ = Parameter::deserialize(value).map(|p| (p.tag().map(str::to_owned), p.score()));
    let text = value.to_string();
    let _ = serde_json::from_str::<BatchResults>(&text);
    let _ = serde_json::from_str::<Page<BatchSummary>>(&text);
}

/// The seed's examples, parsed once.
fn seed_examples() -> &'static [Value] {
    static EXAMPLES: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    EXAMPLES.get_or_init(|| FIXTURES.iter().map(|name| serde_json::from_str(&fixture(name)).unwrap()).collect())
}

/// One way to damage a document.
#[derive(Debug, Clone)]
enum Mutation {
    Drop,
    Null,
    Replace(Value),
    HugeString,
    DeepNesting,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Drop),
        Just(Mutation::Null),
        any_json().prop_map(Mutation::Replace),
        Just(Mutation::HugeString),
        Just(Mutation::DeepNesting),
    ]
}

/// Applies `mutation` to the `pick`-th field (in document order) of `doc`.
fn mutate(doc: &mut Value, pick: usize, mutation: &Mutation) {
    let mut paths = Vec::new();
    collect(doc, &mut Vec::new(), &mut paths);
    if paths.is_empty() {
        return;
    }
    let path = &paths[pick % paths.len()];
    let (last, parents) = path.split_last().unwrap();
    let mut node = &mut *doc;
    for key in parents {
        node = match node {
            Value::Object(m) => m.get_mut(key).unwrap(),
            Value::Array(a) => &mut a[key.parse::<usize>().unwrap()],
            _ => unreachable!(),
        };
    }
    let slot = match node {
        Value::Object(m) => {
            if let Mutation::Drop = mutation {
                m.remove(last);
                return;
            }
            m.get_mut(last).unwrap()
        }
        Value::Array(a) => &mut a[last.parse::<usize>().unwrap()],
        _ => unreachable!(),
    };
    *slot = match mutation {
        Mutation::Drop | Mutation::Null => Value::Null,
        Mutation::Replace(v) => v.clone(),
        Mutation::HugeString => Value::String("é".repeat(30_000)),
        Mutation::DeepNesting => (0..200).fold(json!(1), |v, _| json!([v])),
    };
}

/// Every path to a field, down to a depth that covers the documents' own structure
/// (not the depths a nesting mutation adds).
fn collect(node: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if path.len() >= 8 {
        return;
    }
    let children: Vec<(String, &Value)> = match node {
        Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(a) => a.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect(),
        _ => return,
    };
    for (key, child) in children {
        path.push(key);
        out.push(path.clone());
        collect(child, path, out);
        path.pop();
    }
}

const FIXTURES: [&str; 5] =
    ["subject_parameters.json", "batch_info.json", "batch_list.json", "initiate_upload.json", "results_complete.json"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics_any_model(value in any_json()) {
        decode_everything(&value);
    }

    #[test]
    fn unknown_fields_anywhere_in_an_analysis_never_fail_decoding(pick in any::<usize>(), key in "[a-z]{3,12}_new", value in any_json()) {
        // Objects of an analysis that are records (not maps of parameters or sides).
        let mut doc = seed_examples()[4].clone();
        let analysis = &mut doc["face_skin_metrics_3"];
        let target = match pick % 3 {
            0 => analysis,
            1 => &mut analysis["predicted_images"]["front"],
            _ => &mut analysis["parameters"]["age"],
        };
        target.as_object_mut().unwrap().insert(key, value);
        let results: BatchResults = serde_json::from_value(doc).unwrap();
        prop_assert!(results.is_complete());
        prop_assert_eq!(results.parameters().len(), 3);
    }

    #[test]
    fn any_parameter_shape_is_accepted(name in "[a-z_]{1,20}", value in any_json()) {
        let doc = json!({"face_skin_metrics_3": {"all_algorithms_calculated": true, "parameters": {name.clone(): value}}});
        let results: BatchResults = serde_json::from_value(doc).unwrap();
        prop_assert!(results.parameter(&name).is_some());
    }
}

proptest! {
    // Each case decodes a whole damaged document several ways: fewer cases, same reach.
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_seed_examples_never_panic(fixture_index in 0..FIXTURES.len(), picks in prop::collection::vec((any::<usize>(), mutation()), 1..4)) {
        let mut doc = seed_examples()[fixture_index].clone();
        for (pick, m) in &picks {
            mutate(&mut doc, *pick, m);
        }
        decode_everything(&doc);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    assert!(serde_json::from_str::<BatchResults>(&deep).is_err());
    let deep_object = format!(
        "{{\"face_skin_metrics_3\": {{\"parameters\": {{\"age\": {}1{}}}}}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert!(serde_json::from_str::<BatchResults>(&deep_object).is_err());
}

fn session(url: &str) -> Session {
    crate::common::session(url).0
}

#[test]
fn bad_arguments_are_errors_not_panics() {
    let company = crate::common::company();
    for (token, why) in [("", "empty"), ("abc\ndef", "line breaks"), ("abc def", "spaces"), ("tök", "non-ascii")] {
        let err = Session::builder(token, company).build().unwrap_err().to_string();
        assert!(err.contains(why), "{token:?}: {err}");
    }
    let with_base = |url: &str| Session::builder(crate::common::TOKEN, company).base_url(url);
    let err = with_base("http://10.0.0.8/api").build().unwrap_err().to_string();
    assert!(err.contains("unencrypted"), "{err}");
    assert!(with_base("http://10.0.0.8/api").allow_insecure_http(true).build().is_ok());
    assert_eq!(with_base("https://h/x/y//").build().unwrap().base_url(), "https://h/x/y");
    let err = with_base("saas.haut.ai").build().unwrap_err().to_string();
    assert!(err.contains("not an absolute url"), "{err}");
    let session = session("http://127.0.0.1:9");
    let err = session.set_token("new\r\nInjected: header").unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Config(_)), "{err:?}");
    let zero = session.list_batches(&hautai::model::BatchQuery::new().page_size(0)).unwrap_err();
    assert!(matches!(zero.kind(), ErrorKind::InvalidArgument(_)));
    for name in [String::new(), "a".repeat(256), "é".repeat(256)] {
        let err = session
            .initiate_upload(crate::common::subject(), &InitiateUpload::new().name(Side::Right, name))
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::InvalidArgument(_)), "{err:?}");
    }
}

#[test]
fn unreadable_files_fifos_and_directories_are_refused_before_any_request() {
    let session = session("http://127.0.0.1:9"); // Nothing listens: a request would fail differently.
    let dir = TempDir::new("hostile-files");
    let locked = dir.file("locked.jpg", b"\xFF\xD8\xFFjpeg");
    let fifo = dir.path().join("fifo.jpg");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let err = session.run_analysis(&Images::new().front(&fifo), &Default::default()).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidImage { reason, .. } if reason.contains("not a regular file")),
        "{err:?}"
    );
    let err = session.run_analysis(&Images::new().left(dir.path()), &Default::default()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidImage { reason, .. } if reason.contains("directory")), "{err:?}");
    let err = session.run_analysis(&Images::new().right(&locked), &Default::default()).unwrap_err();
    if std::fs::File::open(&locked).is_err() {
        // An ordinary user cannot read a file with mode 000: refused at validation.
        assert!(
            matches!(err.kind(), ErrorKind::InvalidImage { reason, .. } if reason.contains("permission denied")),
            "{err:?}"
        );
    } else {
        // Root reads any file: validation passes and the first request (initiate) fails.
        assert_eq!(err.step(), Some(hautai::error::Step::Initiate), "{err:?}");
    }
}
