//! The bounded compute pool: a fixed set of OS threads for CPU-bound stages, so the async
//! workers never block. Jobs wait in one FIFO per priority and are taken by the same aging rule
//! as the admission queue (smallest `enqueued + rank * aging`), so a critical request's CPU work
//! does not queue behind a backlog of low-priority work, and low-priority work still advances.

use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::stage::Priority;

type Job = Box<dyn FnOnce() + Send + 'static>;

struct PoolState {
    jobs: [VecDeque<(u64, Job)>; 4],
    closed: bool,
}

impl PoolState {
    fn pop(&mut self, aging_ns: u64) -> Option<Job> {
        let mut best: Option<(u128, usize)> = None;
        for (rank, q) in self.jobs.iter().enumerate() {
            if let Some((t, _)) = q.front() {
                let score = u128::from(*t) + rank as u128 * u128::from(aging_ns);
                if best.is_none_or(|(s, _)| score < s) {
                    best = Some((score, rank));
                }
            }
        }
        let (_, rank) = best?;
        self.jobs[rank].pop_front().map(|(_, job)| job)
    }
}

struct Shared {
    state: Mutex<PoolState>,
    ready: Condvar,
    depth: AtomicUsize,
    busy: AtomicUsize,
    aging_ns: u64,
    epoch: Instant,
}

/// A fixed number of threads draining one FIFO of jobs.
pub(crate) struct ComputePool {
    shared: Arc<Shared>,
    threads: usize,
}

impl ComputePool {
    /// Starts `threads` threads named `{name}-{i}`; waiting jobs age by `aging_ns`.
    pub(crate) fn new(threads: usize, name: &str, aging_ns: u64) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(PoolState {
                jobs: Default::default(),
                closed: false,
            }),
            ready: Condvar::new(),
            depth: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            aging_ns,
            epoch: Instant::now(),
        });
        for i in 0..threads {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || run(&shared))?;
        }
        Ok(ComputePool { shared, threads })
    }

    /// Queues a job at `priority`; gives it back when the pool is closed.
    pub(crate) fn spawn(&self, priority: Priority, job: Job) -> Result<(), Job> {
        let now = u64::try_from(self.shared.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let mut st = self.shared.state.lock();
        if st.closed {
            return Err(job);
        }
        st.jobs[priority.rank()].push_back((now, job));
        self.shared.depth.fetch_add(1, Ordering::Relaxed);
        drop(st);
        self.shared.ready.notify_one();
        Ok(())
    }

    /// Jobs waiting for a thread.
    pub(crate) fn queue_depth(&self) -> usize {
        self.shared.depth.load(Ordering::Relaxed)
    }

    /// Threads running a job now.
    pub(crate) fn busy(&self) -> usize {
        self.shared.busy.load(Ordering::Relaxed)
    }

    /// Number of threads.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }

    /// Stops the threads after their current job; queued jobs are dropped (their waiters see
    /// the result channel close).
    pub(crate) fn close(&self) {
        let dropped: Vec<Job> = {
            let mut st = self.shared.state.lock();
            st.closed = true;
            self.shared.depth.store(0, Ordering::Relaxed);
            st.jobs
                .iter_mut()
                .flat_map(|q| q.drain(..).map(|(_, job)| job))
                .collect()
        };
        drop(dropped);
        self.shared.ready.notify_all();
    }
}

impl Drop for ComputePool {
    fn drop(&mut self) {
        self.close();
    }
}

fn run(shared: &Shared) {
    loop {
        let job = {
            let mut st = shared.state.lock();
            loop {
                if st.closed {
                    return;
                }
                if let Some(job) = st.pop(shared.aging_ns) {
                    shared.depth.fetch_sub(1, Ordering::Relaxed);
                    break job;
                }
                shared.ready.wait(&mut st);
            }
        };
        shared.busy.fetch_add(1, Ordering::Relaxed);
        // A panicking job must not kill the thread; the job itself reports the panic.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        shared.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn urgent_jobs_jump_the_backlog() {
        let pool = ComputePool::new(1, "test", 60_000_000_000).unwrap();
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let (tx, rx) = mpsc::channel();
        // Occupy the only thread until the backlog is queued.
        pool.spawn(Priority::Normal, Box::new(move || gate_rx.recv().unwrap()))
            .ok()
            .unwrap();
        while pool.busy() == 0 {
            std::thread::yield_now();
        }
        for (n, p) in [
            (1, Priority::Low),
            (2, Priority::Normal),
            (3, Priority::Critical),
            (4, Priority::High),
        ] {
            let tx = tx.clone();
            pool.spawn(p, Box::new(move || tx.send(n).unwrap()))
                .ok()
                .unwrap();
        }
        assert_eq!(pool.queue_depth(), 4);
        gate_tx.send(()).unwrap();
        let order: Vec<i32> = (0..4).map(|_| rx.recv().unwrap()).collect();
        assert_eq!(order, vec![3, 4, 2, 1]);
        pool.close();
        assert!(pool.spawn(Priority::Normal, Box::new(|| ())).is_err());
    }
}
