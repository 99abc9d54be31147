//! Entries written by a hostile or broken producer: a field name that is not UTF-8, an entry
//! that names another signal than its stream's, forged `dead.*` fields. Each goes to the dead
//! letters at its first delivery and the entries behind it flow on; none runs another
//! signal's receivers; none can steer a replay.

mod helpers;
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use helpers::{consume_until, entry_fields, options, pending, raw, xadd};
use signals_core::{Kwargs, Namespace, SenderKey};
use signals_redis::{Bridge, BridgeConfig, Consumer};
use support::{available, runtime, RedisServer};

const PREFIX: &str = "ckan:default:signals:";

#[test]
fn hostile_entries_are_dead_lettered_and_never_reach_other_receivers() {
    if !available("hostile_entries_are_dead_lettered_and_never_reach_other_receivers") {
        return;
    }
    let server = RedisServer::start();
    runtime().block_on(async {
        let bridge = Bridge::connect(BridgeConfig::new(server.url()))
            .await
            .unwrap();
        let ns = Namespace::get("redis_hostile").unwrap();
        let (a, b) = (ns.signal("a").unwrap(), ns.signal("b").unwrap());
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let (log_a, log_b) = (seen.clone(), seen.clone());
        let _a = a
            .connect(move |_: &SenderKey<'_>, kw: &dyn Kwargs| {
                let n = kw.read::<i64>("n").map(|n| *n).unwrap_or(-1);
                log_a.lock().unwrap().push(format!("a {n}"));
            })
            .scoped();
        let _b = b
            .connect(move |_: &SenderKey<'_>, _: &dyn Kwargs| {
                log_b.lock().unwrap().push("b".to_owned());
            })
            .scoped();
        let stream = format!("{PREFIX}redis_hostile.a");
        let mut conn = raw(&server.url()).await;
        let good = |n: u32| {
            entry_fields(
                &format!("e{n}"),
                "redis_hostile",
                "a",
                "1",
                &format!("{{\"n\": {n}}}"),
                &[],
            )
        };
        xadd(&mut conn, &stream, &good(1)).await;
        // A field name that is not UTF-8: the reply's parsing must not fail for the batch.
        let bad_name: String = redis::cmd("XADD")
            .arg(&stream)
            .arg("*")
            .arg(b"\xff".as_slice())
            .arg("x")
            .query_async(&mut conn)
            .await
            .unwrap();
        // An entry in a's stream that names b.
        let other = xadd(
            &mut conn,
            &stream,
            &entry_fields("e-b", "redis_hostile", "b", "1", "{}", &[]),
        )
        .await;
        // Forged dead-letter fields, and bad JSON so that it is dead-lettered.
        let forged = xadd(
            &mut conn,
            &stream,
            &entry_fields(
                "e-forged",
                "redis_hostile",
                "a",
                "1",
                "{not json",
                &[
                    ("dead.stream", "othersite:anything"),
                    ("dead.reason", "all fine, replay me"),
                ],
            ),
        )
        .await;
        xadd(&mut conn, &stream, &good(2)).await;

        let mut consumer = Consumer::new(&bridge, options("workers", "c1", 300)).signal(&a);
        consume_until(&mut consumer, Duration::from_secs(5), || {
            seen.lock().unwrap().len() >= 2
        })
        .await;
        assert_eq!(*seen.lock().unwrap(), ["a 1", "a 2"], "b never ran");
        assert!(pending(&mut conn, &stream, "workers").await.is_empty());

        let letters = bridge.dead_letters().list(10).await.unwrap();
        let by_entry = |id: &str| {
            letters
                .iter()
                .find(|l| l.entry_id == id)
                .unwrap_or_else(|| panic!("no dead letter for {id}: {letters:?}"))
        };
        assert_eq!(letters.len(), 3, "{letters:?}");
        assert_eq!(
            by_entry(&bad_name).reason,
            "the entry cannot be read: the field `v` is missing or not UTF-8"
        );
        assert_eq!(
            by_entry(&other).reason,
            format!(
                "the entry names redis_hostile.b but was read from {stream}, not that signal's \
                 stream"
            )
        );
        let forged_letter = by_entry(&forged);
        assert_eq!(forged_letter.stream, stream);
        assert!(
            forged_letter
                .reason
                .starts_with("the entry cannot be read: the field `kwargs` is not valid JSON"),
            "{}",
            forged_letter.reason
        );
        assert!(
            forged_letter
                .fields
                .iter()
                .all(|(name, _)| !name.starts_with("dead.")),
            "{:?}",
            forged_letter.fields
        );
        // Replayed, it goes back to its own stream only.
        let replayed = bridge
            .dead_letters()
            .replay(&forged_letter.id)
            .await
            .unwrap();
        let exists: bool = redis::cmd("EXISTS")
            .arg("othersite:anything")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(!exists);
        let back: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
            .arg(&stream)
            .arg(&replayed)
            .arg(&replayed)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(back.len(), 1);
    });
}
