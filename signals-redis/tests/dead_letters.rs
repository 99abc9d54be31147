//! Dead letters against a real `redis-server`: poison entries (written raw, as a hostile or
//! broken producer would) go at their first delivery with the reason while the entries behind
//! them flow on; a receiver that always fails is given up after exactly `max_deliveries`;
//! entries of a newer schema wait in the dead letters, entries of an older one are read with
//! the new fields' defaults; and the dead letters are listed, shown, replayed and purged.

mod helpers;
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use signals_core::prelude::*;
use signals_core::wire::{sender_from_json, WireError};
use signals_redis::{current_delivery, Bridge, BridgeConfig, BridgeError, Consumer, DeadLetter};
use support::{available, runtime, RedisServer};

use helpers::{consume_for, consume_until, entry_fields, options, pending, raw, xadd};

#[signal(namespace = "redis_dead", name = "poisoned")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Poisoned {
    pub n: u32,
}

#[signal(namespace = "redis_dead", name = "always_failing")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlwaysFailing {
    pub n: u32,
}

/// Schema 1 here; the test writes entries of schema 2 by hand (a newer producer).
#[signal(namespace = "redis_dead", name = "newer_producer")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewerProducer {
    pub n: u32,
}

/// Schema 2 here, with a field schema 1 lacked; the test writes entries of schema 1 by hand
/// (an older producer).
#[signal(namespace = "redis_dead", name = "older_producer", schema = 2)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OlderProducer {
    pub n: u32,
    #[serde(default)]
    pub note: String,
}

#[signal(namespace = "redis_dead", name = "managed")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Managed {
    pub n: u32,
}

const PREFIX: &str = "ckan:default:signals:redis_dead.";
const UUID: &str = "0190a5c4-0000-7000-8000-000000000001";

/// `fields` sorted by name, as a dead letter lists them.
fn sorted(fields: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut fields = fields;
    fields.sort();
    fields
}

#[test]
fn poison_entries_are_dead_lettered_at_their_first_delivery_and_the_rest_flows_on() {
    if !available("poison_entries_are_dead_lettered_at_their_first_delivery") {
        return;
    }
    let server = RedisServer::start();
    let stream = format!("{PREFIX}poisoned");
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::<(u32, usize)>::new()));
        let record = seen.clone();
        let _receiver = Poisoned::signal()
            .connect(move |_: &str, ev: &Poisoned| {
                record
                    .lock()
                    .unwrap()
                    .push((ev.n, current_delivery().unwrap().deliveries));
            })
            .scoped();
        let mut conn = raw(&server.url()).await;
        bridge
            .publish::<Poisoned>("web", &Poisoned { n: 0 })
            .await
            .unwrap();
        let bad_json = entry_fields(UUID, "redis_dead", "poisoned", "1", "{not json", &[]);
        let bad_name = entry_fields(UUID, "redis_dead", "Bad Name", "1", r#"{"n":1}"#, &[]);
        let wrong_shape = entry_fields(UUID, "redis_dead", "poisoned", "1", r#"{"n":"one"}"#, &[]);
        let not_a_sender = entry_fields(
            UUID,
            "redis_dead",
            "poisoned",
            "1",
            r#"{"n":1}"#,
            &[("sender", "7")],
        );
        let mut poison = Vec::new();
        for fields in [&bad_json, &bad_name, &wrong_shape, &not_a_sender] {
            poison.push(xadd(&mut conn, &stream, fields).await);
        }
        bridge
            .publish::<Poisoned>("web", &Poisoned { n: 1 })
            .await
            .unwrap();

        let mut consumer =
            Consumer::new(&bridge, options("workers", "c1", 200)).signal(&Poisoned::named());
        consume_until(&mut consumer, Duration::from_secs(5), || {
            seen.lock().unwrap().len() >= 2
        })
        .await;
        consume_for(&mut consumer, Duration::from_millis(500)).await;

        assert_eq!(*seen.lock().unwrap(), [(0, 1), (1, 1)]);
        let letters = bridge.dead_letters().list(100).await.unwrap();
        let got: Vec<(&str, &str, &str, usize, &str)> = letters
            .iter()
            .map(|l| {
                (
                    l.stream.as_str(),
                    l.entry_id.as_str(),
                    l.group.as_str(),
                    l.deliveries,
                    l.reason.as_str(),
                )
            })
            .collect();
        assert_eq!(got.len(), 4, "{letters:#?}");
        // The rule's wording is signals-core's.
        let rule = signals_core::check_name("Bad Name").unwrap_err();
        let bad_name_reason = format!(
            "the entry cannot be read: the name \"Bad Name\" breaks the name rules: {rule}"
        );
        assert_eq!(
            got[..2],
            [
                (
                    stream.as_str(),
                    poison[0].as_str(),
                    "workers",
                    1,
                    "the entry cannot be read: the field `kwargs` is not valid JSON: key must be a \
                     string at line 1 column 2"
                ),
                (stream.as_str(), poison[1].as_str(), "workers", 1, bad_name_reason.as_str()),
            ]
        );
        // The last two are refused by signals-core's JSON form, with its words.
        let undecodable = WireError::Undecodable {
            signal: "redis_dead.poisoned".into(),
            expected: std::any::type_name::<Poisoned>(),
            error: serde_json::from_value::<Poisoned>(serde_json::json!({"n": "one"}))
                .unwrap_err()
                .to_string(),
        };
        let not_a_sender_error = sender_from_json(&serde_json::json!(7)).unwrap_err();
        assert_eq!(
            got[2..],
            [
                (
                    stream.as_str(),
                    poison[2].as_str(),
                    "workers",
                    1,
                    format!("the event cannot be sent here: {undecodable}").as_str()
                ),
                (
                    stream.as_str(),
                    poison[3].as_str(),
                    "workers",
                    1,
                    format!("the event cannot be sent here: {not_a_sender_error}").as_str()
                ),
            ]
        );
        // Each keeps the entry's fields as they were.
        for (letter, fields) in letters
            .iter()
            .zip([bad_json, bad_name, wrong_shape, not_a_sender])
        {
            assert_eq!(letter.fields, sorted(fields));
        }
        let stats = consumer.stats();
        assert_eq!((stats.dead_lettered, stats.acked, stats.failed), (4, 2, 0));
        assert!(pending(&mut conn, &stream, "workers").await.is_empty());
    });
}

#[test]
fn a_receiver_that_always_fails_is_given_up_after_exactly_max_deliveries() {
    if !available("a_receiver_that_always_fails_is_given_up_after_exactly_max_deliveries") {
        return;
    }
    let server = RedisServer::start();
    let stream = format!("{PREFIX}always_failing");
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        // (n, deliveries) of each call; 0 always fails, 1 succeeds.
        let seen = Arc::new(Mutex::new(Vec::<(u32, usize)>::new()));
        let record = seen.clone();
        let _receiver = AlwaysFailing::signal()
            .connect(move |_: &str, ev: &AlwaysFailing| {
                record
                    .lock()
                    .unwrap()
                    .push((ev.n, current_delivery().unwrap().deliveries));
                if ev.n == 0 {
                    Err("the search index refused it")
                } else {
                    Ok(())
                }
            })
            .scoped();
        let failing = bridge
            .publish::<AlwaysFailing>("web", &AlwaysFailing { n: 0 })
            .await
            .unwrap();
        bridge
            .publish::<AlwaysFailing>("web", &AlwaysFailing { n: 1 })
            .await
            .unwrap();
        let mut options = options("workers", "c1", 200);
        options.max_deliveries = 3;
        let mut consumer = Consumer::new(&bridge, options).signal(&AlwaysFailing::named());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while consumer.stats().dead_lettered < 1 {
            assert!(tokio::time::Instant::now() < deadline, "{consumer:?}");
            consumer.read_once().await.unwrap();
            consumer.reclaim().await;
        }
        consume_for(&mut consumer, Duration::from_millis(600)).await;

        assert_eq!(*seen.lock().unwrap(), [(0, 1), (1, 1), (0, 2), (0, 3)]);
        let letters = bridge.dead_letters().list(100).await.unwrap();
        assert_eq!(letters.len(), 1, "{letters:#?}");
        let letter = &letters[0];
        assert_eq!(
            (
                letter.stream.as_str(),
                letter.entry_id.as_str(),
                letter.group.as_str(),
                letter.deliveries
            ),
            (stream.as_str(), failing.entry_id.as_str(), "workers", 3)
        );
        let prefix =
            "delivered 3 times without success (max_deliveries 3); the last failure here: ";
        assert!(letter.reason.starts_with(prefix), "{}", letter.reason);
        assert!(
            letter.reason.contains("the search index refused it"),
            "{}",
            letter.reason
        );
        let stats = consumer.stats();
        assert_eq!(
            (
                stats.sent,
                stats.failed,
                stats.acked,
                stats.dead_lettered,
                stats.reclaimed
            ),
            (4, 3, 1, 1, 3)
        );
        let mut conn = raw(&server.url()).await;
        assert!(pending(&mut conn, &stream, "workers").await.is_empty());
    });
}

#[test]
fn an_entry_of_a_newer_schema_waits_in_the_dead_letters() {
    if !available("an_entry_of_a_newer_schema_waits_in_the_dead_letters") {
        return;
    }
    let server = RedisServer::start();
    let stream = format!("{PREFIX}newer_producer");
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::<NewerProducer>::new()));
        let record = seen.clone();
        let _receiver = NewerProducer::signal()
            .connect(move |_: &str, ev: &NewerProducer| record.lock().unwrap().push(ev.clone()))
            .scoped();
        let mut conn = raw(&server.url()).await;
        let newer = entry_fields(
            UUID,
            "redis_dead",
            "newer_producer",
            "2",
            r#"{"n":1,"extra":true}"#,
            &[],
        );
        let newer_id = xadd(&mut conn, &stream, &newer).await;
        let same = entry_fields(UUID, "redis_dead", "newer_producer", "1", r#"{"n":2}"#, &[]);
        xadd(&mut conn, &stream, &same).await;
        let mut consumer =
            Consumer::new(&bridge, options("workers", "c1", 200)).signal(&NewerProducer::named());
        consume_until(&mut consumer, Duration::from_secs(5), || {
            !seen.lock().unwrap().is_empty()
        })
        .await;
        consume_for(&mut consumer, Duration::from_millis(400)).await;

        assert_eq!(*seen.lock().unwrap(), [NewerProducer { n: 2 }]);
        let letters = bridge.dead_letters().list(100).await.unwrap();
        assert_eq!(letters.len(), 1, "{letters:#?}");
        assert_eq!(
            (
                letters[0].entry_id.as_str(),
                letters[0].deliveries,
                letters[0].reason.as_str()
            ),
            (
                newer_id.as_str(),
                1,
                "schema version 2 is newer than this consumer's (1); upgrade the consumer, then \
                 replay the dead letter"
            )
        );
        assert_eq!(letters[0].fields, sorted(newer));
        assert!(pending(&mut conn, &stream, "workers").await.is_empty());
    });
}

#[test]
fn an_entry_of_an_older_schema_is_read_with_the_new_fields_defaults() {
    if !available("an_entry_of_an_older_schema_is_read_with_the_new_fields_defaults") {
        return;
    }
    let server = RedisServer::start();
    let stream = format!("{PREFIX}older_producer");
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::<(String, OlderProducer)>::new()));
        let record = seen.clone();
        let _receiver = OlderProducer::signal()
            .connect(move |sender: &str, ev: &OlderProducer| {
                record.lock().unwrap().push((sender.to_owned(), ev.clone()));
            })
            .scoped();
        let mut conn = raw(&server.url()).await;
        let older = entry_fields(UUID, "redis_dead", "older_producer", "1", r#"{"n":1}"#, &[]);
        xadd(&mut conn, &stream, &older).await;
        // This process writes schema 2.
        let current = OlderProducer {
            n: 2,
            note: "new".into(),
        };
        let published = bridge
            .publish::<OlderProducer>("api", &current)
            .await
            .unwrap();
        let schema: Option<String> = redis::cmd("XRANGE")
            .arg(&stream)
            .arg(&published.entry_id)
            .arg(&published.entry_id)
            .query_async::<redis::streams::StreamRangeReply>(&mut conn)
            .await
            .unwrap()
            .ids[0]
            .get("schema");
        assert_eq!(schema.as_deref(), Some("2"));

        let mut consumer =
            Consumer::new(&bridge, options("workers", "c1", 200)).signal(&OlderProducer::named());
        consume_until(&mut consumer, Duration::from_secs(5), || {
            seen.lock().unwrap().len() >= 2
        })
        .await;
        consume_for(&mut consumer, Duration::from_millis(400)).await;
        assert_eq!(
            *seen.lock().unwrap(),
            [
                (
                    "web".to_owned(),
                    OlderProducer {
                        n: 1,
                        note: String::new()
                    }
                ),
                ("api".to_owned(), current),
            ]
        );
        assert!(bridge.dead_letters().list(100).await.unwrap().is_empty());
        assert!(pending(&mut conn, &stream, "workers").await.is_empty());
    });
}

#[test]
fn dead_letters_are_listed_shown_replayed_and_purged() {
    if !available("dead_letters_are_listed_shown_replayed_and_purged") {
        return;
    }
    let server = RedisServer::start();
    let stream = format!("{PREFIX}managed");
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let dead = bridge.dead_letters();
        // Fails until fixed.
        let fixed = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::<(u32, String, String, usize, bool)>::new()));
        let (record, is_fixed) = (seen.clone(), fixed.clone());
        let _receiver = Managed::signal()
            .connect(move |_: &str, ev: &Managed| {
                let d = current_delivery().unwrap();
                let ok = is_fixed.load(Ordering::SeqCst);
                record
                    .lock()
                    .unwrap()
                    .push((ev.n, d.event_id, d.entry_id, d.deliveries, ok));
                if ok {
                    Ok(())
                } else {
                    Err("the mail server is down")
                }
            })
            .scoped();
        let mut conn = raw(&server.url()).await;
        let bad_json = entry_fields(UUID, "redis_dead", "managed", "1", "[1", &[]);
        let a_id = xadd(&mut conn, &stream, &bad_json).await;
        let newer = entry_fields(UUID, "redis_dead", "managed", "3", r#"{"n":2}"#, &[]);
        let b_id = xadd(&mut conn, &stream, &newer).await;
        let c = bridge
            .publish::<Managed>("web", &Managed { n: 3 })
            .await
            .unwrap();
        let c_fields: Vec<(String, String)> = redis::cmd("XRANGE")
            .arg(&stream)
            .arg(&c.entry_id)
            .arg(&c.entry_id)
            .query_async::<Vec<(String, Vec<(String, String)>)>>(&mut conn)
            .await
            .unwrap()
            .remove(0)
            .1;

        let mut options = options("workers", "c1", 200);
        options.max_deliveries = 1;
        let mut consumer = Consumer::new(&bridge, options).signal(&Managed::named());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while consumer.stats().dead_lettered < 3 {
            assert!(tokio::time::Instant::now() < deadline, "{consumer:?}");
            consumer.read_once().await.unwrap();
            consumer.reclaim().await;
        }

        // list: oldest first, with where from, why, and the fields as they were.
        let letters = dead.list(100).await.unwrap();
        let summary: Vec<(&str, &str, &str, usize, &str)> = letters
            .iter()
            .map(|l| {
                (
                    l.stream.as_str(),
                    l.entry_id.as_str(),
                    l.group.as_str(),
                    l.deliveries,
                    l.reason.as_str(),
                )
            })
            .collect();
        assert_eq!(summary.len(), 3, "{letters:#?}");
        assert_eq!(
            summary[..2],
            [
                (
                    stream.as_str(),
                    a_id.as_str(),
                    "workers",
                    1,
                    "the entry cannot be read: the field `kwargs` is not valid JSON: EOF while \
                     parsing a list at line 1 column 2"
                ),
                (
                    stream.as_str(),
                    b_id.as_str(),
                    "workers",
                    1,
                    "schema version 3 is newer than this consumer's (1); upgrade the consumer, \
                     then replay the dead letter"
                ),
            ]
        );
        assert_eq!(
            (summary[2].0, summary[2].1, summary[2].2, summary[2].3),
            (stream.as_str(), c.entry_id.as_str(), "workers", 1)
        );
        assert!(
            summary[2].4.starts_with(
                "delivered once without success (max_deliveries 1); the last failure here: "
            ) && summary[2].4.contains("the mail server is down"),
            "{}",
            summary[2].4
        );
        assert_eq!(letters[0].fields, sorted(bad_json));
        assert_eq!(letters[1].fields, sorted(newer));
        assert_eq!(letters[2].fields, sorted(c_fields));
        // A shorter list: the oldest.
        assert_eq!(dead.list(2).await.unwrap(), letters[..2]);

        // show
        for letter in &letters {
            assert_eq!(&dead.show(&letter.id).await.unwrap(), letter);
        }
        for missing in ["0-1", "not-an-id"] {
            match dead.show(missing).await {
                Err(BridgeError::NoSuchDeadLetter(id)) => assert_eq!(id, missing),
                other => panic!("{other:?}"),
            }
        }

        // replay: fixed, the entry comes back to its stream (a new entry, the same event) and
        // is handled; the dead letter is gone.
        fixed.store(true, Ordering::SeqCst);
        let replayed = dead.replay(&letters[2].id).await.unwrap();
        assert!(id_key(&replayed) > id_key(&c.entry_id), "{replayed}");
        assert_eq!(dead.list(100).await.unwrap(), letters[..2]);
        let done = || seen.lock().unwrap().iter().any(|s| s.4);
        consume_until(&mut consumer, Duration::from_secs(5), done).await;
        consume_for(&mut consumer, Duration::from_millis(400)).await;
        assert_eq!(
            *seen.lock().unwrap(),
            [
                (3, c.event_id.clone(), c.entry_id.clone(), 1, false),
                (3, c.event_id.clone(), replayed.clone(), 1, true),
            ]
        );
        assert!(matches!(
            dead.replay(&letters[2].id).await,
            Err(BridgeError::NoSuchDeadLetter(_))
        ));

        // purge one, then all.
        assert_eq!(dead.purge(Some(&letters[0].id)).await.unwrap(), 1);
        assert!(matches!(
            dead.purge(Some(&letters[0].id)).await,
            Err(BridgeError::NoSuchDeadLetter(id)) if id == letters[0].id
        ));
        assert_eq!(dead.list(100).await.unwrap(), letters[1..2]);
        assert_eq!(dead.purge(None).await.unwrap(), 1);
        assert_eq!(dead.list(100).await.unwrap(), Vec::<DeadLetter>::new());
        assert_eq!(dead.purge(None).await.unwrap(), 0);
        assert!(pending(&mut conn, &stream, "workers").await.is_empty());
    });
}

fn id_key(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').unwrap();
    (ms.parse().unwrap(), seq.parse().unwrap())
}
