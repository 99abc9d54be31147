//! What can go wrong, each with what to do about it.

use crate::url::redact;

/// An error of the bridge. Its text never contains the Redis URL's credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// Redis refused a command or could not be reached.
    #[error(
        "redis: {0}; check that the server at the configured URL runs and accepts this client"
    )]
    Redis(String),
    /// The signal's kwargs or sender cannot be written as an entry.
    #[error("cannot forward {signal}: {reason}")]
    Encode {
        /// The signal's qualified name.
        signal: String,
        /// Why, and what to do.
        reason: String,
    },
    /// The entry is larger than the producer's cap.
    #[error(
        "cannot forward {signal}: the entry is {size} bytes, over the cap of {max} bytes; send \
         less in the kwargs (an id to look up, not the whole object) or raise \
         BridgeConfig::max_entry_bytes"
    )]
    TooLarge {
        /// The signal's qualified name.
        signal: String,
        /// The entry's size.
        size: usize,
        /// The cap.
        max: usize,
    },
    /// The forwarding buffer is full: the writer to Redis is behind or Redis is down.
    #[error(
        "cannot forward {signal}: the forwarding buffer is full ({capacity} events waiting for \
         Redis); the event was not forwarded. Check that Redis is reachable, or raise \
         BridgeConfig::buffer"
    )]
    BufferFull {
        /// The signal's qualified name.
        signal: String,
        /// The buffer's capacity.
        capacity: usize,
    },
    /// The forwarder was shut down.
    #[error("cannot forward {signal}: the forwarder is shut down")]
    Closed {
        /// The signal's qualified name.
        signal: String,
    },
    /// The configuration is not usable.
    #[error("bad bridge configuration: {0}")]
    Config(String),
    /// A consumer group disappeared (Redis restarted without persistence, or the stream was
    /// deleted): the group was created again, and events may have been lost in between.
    #[error(
        "the consumer group `{group}` of {stream} was gone ({why}): created again from the \
         stream's start; events forwarded before may be lost. Run Redis with appendonly \
         yes to keep streams across restarts"
    )]
    GroupLost {
        /// The stream.
        stream: String,
        /// The group.
        group: String,
        /// What Redis said.
        why: String,
    },
    /// Entries were trimmed or deleted while this group had not acknowledged them.
    #[error(
        "{count} pending entries of {stream} were deleted before group `{group}` handled them \
         (ids {ids}); trim with Bridge::trim, which keeps what a group has not acknowledged"
    )]
    Gap {
        /// The stream.
        stream: String,
        /// The group.
        group: String,
        /// How many.
        count: usize,
        /// Their ids, comma-separated.
        ids: String,
    },
    /// No dead letter has that id.
    #[error("no dead letter has the id {0}; list them with `dead_letters().list()`")]
    NoSuchDeadLetter(String),
}

impl From<redis::RedisError> for BridgeError {
    fn from(error: redis::RedisError) -> Self {
        BridgeError::Redis(redact(&error.to_string()))
    }
}
