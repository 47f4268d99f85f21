//! A bounded pool for password hashing.
//!
//! One argon2id hash (the default parameters: 19 MiB, 2 passes) costs tens of milliseconds of a core and
//! 19 MiB of memory. Unbounded, a flood of sign-ins (unknown emails hash too, against a dummy hash) starts
//! hundreds at once and takes the process to gigabytes. [`HashPool`] runs at most
//! [`HashPoolConfig::threads`] hashes at a time, lets at most [`HashPoolConfig::queue`] more wait, and
//! refuses the rest at once with [`PoolBusy`] (answered `503` with `Retry-After`).

use std::sync::Arc;

use tokio::sync::Semaphore;

/// Size of a [`HashPool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashPoolConfig {
    /// Hashes computed at once (default: the number of cores).
    pub threads: usize,
    /// Hashes that may wait for a thread (default: 4 per thread); more are refused.
    pub queue: usize,
}

impl Default for HashPoolConfig {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map_or(2, usize::from);
        Self::for_threads(threads)
    }
}

impl HashPoolConfig {
    /// `threads` threads (at least 1) and the default queue of 4 per thread.
    pub fn for_threads(threads: usize) -> Self {
        let threads = threads.max(1);
        Self {
            threads,
            queue: 4 * threads,
        }
    }
}

/// The pool was full: the caller should answer `503` and `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("password hashing is busy")]
pub struct PoolBusy;

/// Seconds a client refused with [`PoolBusy`] is told to wait (`Retry-After`).
pub(crate) const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// Runs CPU- and memory-heavy password work on a bounded number of blocking threads. Cheap to clone
/// (clones share the bound).
#[derive(Debug, Clone)]
pub struct HashPool {
    /// Permits for running and waiting jobs together (`threads + queue`).
    admitted: Arc<Semaphore>,
    /// Permits for running jobs (`threads`).
    running: Arc<Semaphore>,
    config: HashPoolConfig,
}

impl Default for HashPool {
    fn default() -> Self {
        Self::new(HashPoolConfig::default())
    }
}

impl HashPool {
    /// A pool of `config.threads` threads (at least 1) and `config.queue` waiting places.
    pub fn new(config: HashPoolConfig) -> Self {
        let config = HashPoolConfig {
            threads: config.threads.max(1),
            ..config
        };
        Self {
            admitted: Arc::new(Semaphore::new(config.threads + config.queue)),
            running: Arc::new(Semaphore::new(config.threads)),
            config,
        }
    }

    /// The pool's size.
    pub fn config(&self) -> HashPoolConfig {
        self.config
    }

    /// Run `job` on a blocking thread once one of the pool's places is free, or return [`PoolBusy`] at once
    /// when the pool is full. The job holds its places until it finishes, even if the caller stops waiting,
    /// so at most `threads` jobs ever run.
    pub async fn run<T, F>(&self, job: F) -> Result<T, PoolBusy>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| PoolBusy)?;
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| PoolBusy)?;
        tokio::task::spawn_blocking(move || {
            let _places = (admitted, running);
            job()
        })
        .await
        // The job panicked: report it as a refusal rather than unwinding into the handler.
        .map_err(|_| PoolBusy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_threads_plus_queue_and_refuses_the_rest() {
        let pool = HashPool::new(HashPoolConfig {
            threads: 2,
            queue: 3,
        });
        let (release, gate) = mpsc::channel::<()>();
        let gate = Arc::new(std::sync::Mutex::new(gate));
        let (started_tx, started) = mpsc::channel::<()>();
        let mut jobs = Vec::new();
        for i in 0..5 {
            let (pool, gate, started_tx) = (pool.clone(), gate.clone(), started_tx.clone());
            jobs.push(tokio::spawn(async move {
                pool.run(move || {
                    started_tx.send(()).unwrap();
                    gate.lock().unwrap().recv().unwrap();
                    i
                })
                .await
            }));
        }
        // Two jobs run (the two threads), three wait.
        started.recv().unwrap();
        started.recv().unwrap();
        while pool.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.running.available_permits(), 0);
        assert_eq!(pool.run(|| 99).await, Err(PoolBusy));
        for _ in 0..5 {
            release.send(()).unwrap();
        }
        let mut done: Vec<usize> = Vec::new();
        for j in jobs {
            done.push(j.await.unwrap().unwrap());
        }
        done.sort_unstable();
        assert_eq!(done, vec![0, 1, 2, 3, 4]);
        // Free again.
        assert_eq!(pool.run(|| 7).await, Ok(7));
    }

    #[tokio::test]
    async fn a_caller_that_stops_waiting_does_not_free_a_running_place() {
        let pool = HashPool::new(HashPoolConfig {
            threads: 1,
            queue: 0,
        });
        let (release, gate) = mpsc::channel::<()>();
        let (started_tx, started) = mpsc::channel::<()>();
        let p = pool.clone();
        let caller = tokio::spawn(async move {
            p.run(move || {
                started_tx.send(()).unwrap();
                gate.recv().unwrap();
            })
            .await
        });
        tokio::task::spawn_blocking(move || started.recv().unwrap())
            .await
            .unwrap();
        caller.abort();
        let _ = caller.await;
        assert_eq!(pool.run(|| ()).await, Err(PoolBusy));
        release.send(()).unwrap();
        let mut freed = false;
        for _ in 0..1000 {
            if pool.run(|| ()).await.is_ok() {
                freed = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(freed, "the place is given back when the job ends");
    }

    #[test]
    fn defaults_follow_the_cores() {
        let c = HashPoolConfig::default();
        assert!(c.threads >= 1);
        assert_eq!(c.queue, 4 * c.threads);
        assert_eq!(HashPoolConfig::for_threads(0).threads, 1);
    }
}
