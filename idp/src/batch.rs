//! Group commit: many requests hand their rows to one writer task, which writes what has
//! queued up in one transaction and tells each request when its row is durable. A request
//! waits for one commit, never for a commit per row ahead of it, so records that must be
//! stored before an answer (personal-data access events) cost little throughput.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

use crate::store::StoreError;

type Ack<R> = oneshot::Sender<Result<R, String>>;

/// A handle to a writer task; cloning shares the task. Each row's sender hears its own
/// result `R` (`()` for plain records).
pub struct GroupWriter<T, R = ()> {
    queue: mpsc::Sender<(T, Ack<R>)>,
}

impl<T, R> Clone for GroupWriter<T, R> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

/// Why a row was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the writer has stopped")]
    Stopped,
    #[error("writing failed: {0}")]
    Failed(String),
}

impl<T: Send + 'static> GroupWriter<T> {
    /// Start a writer that calls `write` with up to `max_batch` rows at a time. At most
    /// `capacity` rows wait; more make their senders wait (back pressure, nothing dropped).
    pub fn spawn<F, Fut>(capacity: usize, max_batch: usize, write: F) -> Self
    where
        F: Fn(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), StoreError>> + Send,
    {
        Self::spawn_with_results(capacity, max_batch, move |rows| {
            let n = rows.len();
            let written = write(rows);
            async move { written.await.map(|()| vec![(); n]) }
        })
    }
}

impl<T: Send + 'static, R: Send + 'static> GroupWriter<T, R> {
    /// The same, with a result per row: `write` answers one `R` per row, in order.
    pub fn spawn_with_results<F, Fut>(capacity: usize, max_batch: usize, write: F) -> Self
    where
        F: Fn(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<R>, StoreError>> + Send,
    {
        let (queue, mut rx) = mpsc::channel::<(T, Ack<R>)>(capacity.max(1));
        let max_batch = max_batch.max(1);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut rows = Vec::with_capacity(max_batch);
                let mut acks = Vec::with_capacity(max_batch);
                let (row, ack) = first;
                rows.push(row);
                acks.push(ack);
                while rows.len() < max_batch {
                    match rx.try_recv() {
                        Ok((row, ack)) => {
                            rows.push(row);
                            acks.push(ack);
                        }
                        Err(_) => break,
                    }
                }
                let n = acks.len();
                let result = match write(rows).await {
                    Ok(results) if results.len() == n => Ok(results),
                    Ok(results) => Err(format!("{} results for {n} rows", results.len())),
                    Err(e) => Err(e.to_string()),
                };
                match result {
                    Ok(results) => {
                        for (ack, result) in acks.into_iter().zip(results) {
                            // A request that gave up waiting no longer needs the answer.
                            let _ = ack.send(Ok(result));
                        }
                    }
                    Err(e) => {
                        tracing::error!(cause = %e, rows = n, "a batch of records was not written; each request is told");
                        for ack in acks {
                            let _ = ack.send(Err(e.clone()));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    /// Queue `row` without waiting for its commit (a failed batch is logged by the writer);
    /// false when the queue is full or the writer stopped, and the row was not taken.
    pub fn offer(&self, row: T) -> bool {
        let (ack, _) = oneshot::channel();
        self.queue.try_send((row, ack)).is_ok()
    }

    /// Queue `row` and wait until it is committed: its result.
    pub async fn write(&self, row: T) -> Result<R, WriteError> {
        let (ack, done) = oneshot::channel();
        self.queue
            .send((row, ack))
            .await
            .map_err(|_| WriteError::Stopped)?;
        match done.await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(e)) => Err(WriteError::Failed(e)),
            Err(_) => Err(WriteError::Stopped),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[tokio::test]
    async fn rows_are_written_in_batches_and_every_sender_hears_the_outcome() {
        let batches = Arc::new(Mutex::new(Vec::<Vec<u32>>::new()));
        let seen = batches.clone();
        let writer = GroupWriter::spawn(1000, 64, move |rows: Vec<u32>| {
            let seen = seen.clone();
            async move {
                if rows.contains(&13) {
                    return Err(StoreError::Database("unlucky".into()));
                }
                seen.lock().map(|mut b| b.push(rows)).ok();
                Ok(())
            }
        });
        let mut tasks = Vec::new();
        for n in 0..200u32 {
            let w = writer.clone();
            tasks.push(tokio::spawn(async move { (n, w.write(n).await) }));
        }
        let mut failed = Vec::new();
        for t in tasks {
            if let Ok((n, result)) = t.await
                && result.is_err()
            {
                failed.push(n);
            }
        }
        let written: Vec<u32> = batches
            .lock()
            .map(|b| b.iter().flatten().copied().collect())
            .unwrap_or_default();
        // Every row is either written or its sender was told it was not.
        assert!(failed.contains(&13));
        assert_eq!(written.len() + failed.len(), 200);
        assert!(written.iter().all(|n| !failed.contains(n)));
        assert!(
            batches
                .lock()
                .map(|b| b.iter().all(|r| r.len() <= 64))
                .unwrap_or(false)
        );
    }
}
