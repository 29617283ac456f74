//! The SQLite writer. Every write of the login path — reservations,
//! give-backs, clearing a client after a success, the access and failure
//! logs — and the purge are jobs committed in groups: every job waiting
//! when a transaction starts goes into it (up to [`GROUP`]), and each
//! answer leaves after the commit.
//!
//! A group is run by a *leader* (see [`Writer`]): the submitter that finds
//! no group running runs one itself, on its tokio worker, with a connection
//! of cached prepared statements that never waits for the write lock; the
//! submitters that arrive meanwhile queue, and the lead passes to the first
//! of them. When the lock is taken (another process, or this process's
//! pool writing for the admin), the group goes to the writer thread, whose
//! connection waits up to the busy timeout. Before the leader (2026-12-02)
//! every job went to the thread: a futex wake there and one back per job,
//! 2.4 context switches per wrong login against 1.2 now.
//!
//! One writing connection at a time in the process also means no two of
//! its connections wait for each other's write lock: SQLite's busy handler
//! sleeps (1, 2, 5 … 100 ms) while another connection holds the lock, and
//! a log line written from the pool during a flood of reservations waited
//! that way (a p99 of 131 ms for legitimate logins in `BENCHMARKS.md`'s
//! run of 2026-12-01).
//!
//! Exactness is SQLite's: every group is one `BEGIN IMMEDIATE` transaction,
//! which other processes on the same file wait for. Durability is the
//! commit's: an answer leaves only once its transaction is in the WAL.

use std::path::PathBuf;
use std::time::Duration;

use axes_core::error::StoreError;
use axes_core::parameters::LockoutParameters;
use axes_core::store::{
    AlternativeCount, AttemptDetails, BlockTarget, NewAccessLog, NewFailureLog, RecordKey,
    Reservation, ReservationToken, ReserveOutcome,
};
use chrono::{DateTime, Utc};
use rusqlite::types::ToSql;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot};

use super::{dec, enc, sql};
use crate::common::{
    self, ACCEPT_LEN, DATA_LEN, KeyCols, PATH_LEN, SESSION_HASH_LEN, USERNAME_LEN, alt_index, clip,
    micros, threshold,
};

/// Jobs waiting for the writer at most; callers beyond wait to enqueue.
const QUEUE: usize = 1024;

/// Jobs committed in one transaction at most.
const GROUP: usize = 64;

/// Records one purge job deletes at most (see [`sql::PURGE_SLICE`]).
const PURGE_SLICE: u64 = 2_000;

/// The statements each connection keeps prepared.
const STATEMENT_CACHE: usize = 64;

/// A write waiting for its group, and where its answer goes.
struct Job {
    task: Task,
    answer: oneshot::Sender<Answer>,
}

/// A write, and the slot it holds until it has run: jobs in flight — queued
/// for a leader, in a group, in the thread's channel — never outnumber the
/// slots, whether or not their submitters still wait.
struct Task {
    work: Work,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

/// What a waiting submitter hears.
enum Answer {
    /// Its job ran (or could not): the result.
    Done(Result<Done, StoreError>),
    /// The leader left with jobs still queued: lead now, starting with
    /// this task (the submitter's own, not run yet; boxed: a reservation
    /// is much larger than a result).
    Lead(Box<Task>),
}

enum Work {
    Reserve {
        key: RecordKey,
        details: AttemptDetails,
        parameters: LockoutParameters,
        limit: Option<u32>,
        window: Option<chrono::Duration>,
        count_when_locked: bool,
        now: DateTime<Utc>,
        /// Candidate block targets (empty: no look-up).
        blocks: Vec<BlockTarget>,
        /// Only manual blocks refuse.
        manual_only: bool,
    },
    Release {
        key: RecordKey,
        token: ReservationToken,
    },
    /// Deletes the client's records matching each alternative.
    ClearClient {
        key: RecordKey,
        parameters: LockoutParameters,
    },
    AccessLog(NewAccessLog),
    CloseAccessLog {
        username: String,
        session_hash: String,
        logout_time: DateTime<Utc>,
    },
    /// A failure log row, then the username's oldest rows beyond the limit.
    FailureLog {
        entry: NewFailureLog,
        per_user_limit: u32,
    },
    /// Makes the on-demand count indexes of the mask (`alt_index` bits).
    CreateIndexes(u8),
    /// Deletes up to [`PURGE_SLICE`] records whose last failure is at or
    /// before the time.
    Purge(DateTime<Utc>),
}

impl Work {
    /// Jobs that may take many milliseconds (a purge slice, building an
    /// index over a large table): run by the thread, never by a leader on
    /// a tokio worker.
    fn is_slow(&self) -> bool {
        matches!(self, Work::Purge(_) | Work::CreateIndexes(_))
    }
}

enum Done {
    /// Boxed: an outcome (with its block) is much larger than the other answer.
    Reserved(Box<ReserveOutcome>),
    /// Rows written (deleted, updated or inserted).
    Rows(u64),
}

/// The writer of one database file.
///
/// Groups are committed by a *leader*: the first submitter to find no
/// group running runs its job, with every job queued meanwhile, on the
/// tokio worker it is on (no thread hop: the hop and its wake-ups cost
/// more CPU than the statements); jobs submitted while it runs queue, and
/// when it is done it hands the lead to the first of them. The leader's
/// connection never waits for the write lock (busy timeout 0): when
/// another connection or process holds it, the group goes to the writer
/// thread, whose connection waits up to the busy timeout. A worker is
/// thus held for one group's statements at most, never for a lock; slow
/// jobs (purge slices, building an index) always go to the thread.
pub(super) struct Writer {
    /// To the thread (ends when dropped).
    jobs: mpsc::Sender<Job>,
    /// The leader's state.
    state: std::sync::Mutex<Lead>,
    /// Jobs in flight at most ([`QUEUE`], the thread channel's capacity:
    /// a hand-over to the thread always finds room); a submitter beyond
    /// waits here.
    slots: std::sync::Arc<tokio::sync::Semaphore>,
    path: PathBuf,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Lead {
    /// A group is running.
    leading: bool,
    /// Jobs waiting for the next group.
    queue: std::collections::VecDeque<Job>,
    /// The leader's connection (taken while a group runs).
    conn: Option<Connection>,
}

fn gone() -> StoreError {
    StoreError::Unavailable("the SQLite writer thread has stopped".into())
}

/// Maps a SQLite error like [`crate::error::map_sqlx`]: busy, locked, I/O,
/// full and cannot-open are outages.
pub(super) fn map(e: rusqlite::Error) -> StoreError {
    let outage = matches!(
        e.sqlite_error_code(),
        Some(
            rusqlite::ErrorCode::DatabaseBusy
                | rusqlite::ErrorCode::DatabaseLocked
                | rusqlite::ErrorCode::SystemIoFailure
                | rusqlite::ErrorCode::DiskFull
                | rusqlite::ErrorCode::CannotOpen
        )
    );
    if outage {
        StoreError::unavailable(e)
    } else {
        StoreError::backend(e)
    }
}

impl Writer {
    /// Starts the writer thread for the database file at `path`. The
    /// connection is opened on the first job.
    pub(super) fn start(path: PathBuf, busy_timeout: Duration) -> Result<Self, StoreError> {
        // Holds every job in flight: the leader's hand-overs never wait.
        let (jobs, rx) = mpsc::channel(QUEUE);
        let thread_path = path.clone();
        std::thread::Builder::new()
            .name("axes-sqlite-writer".into())
            .spawn(move || run(&thread_path, busy_timeout, rx))
            .map_err(StoreError::unavailable)?;
        Ok(Self {
            jobs,
            state: std::sync::Mutex::new(Lead::default()),
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(QUEUE)),
            path,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Lead> {
        // The state is consistent between statements: a panic elsewhere
        // does not spoil it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn submit(&self, work: Work) -> Result<Done, StoreError> {
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| gone())?;
        let (answer, done) = oneshot::channel();
        let job = Job {
            task: Task { work, _slot: slot },
            answer,
        };
        if job.task.work.is_slow() {
            // Not on a request's worker: the thread runs it (the leader's
            // groups meanwhile find the lock taken and follow it there).
            self.jobs.send(job).await.map_err(|_| gone())?;
            return finish(done.await);
        }
        let queued = {
            let mut state = self.state();
            if state.leading {
                state.queue.push_back(job);
                None
            } else {
                state.leading = true;
                Some(job)
            }
        };
        let (job, done) = match queued {
            Some(job) => (job, done),
            None => {
                let mut waiting = Waiting {
                    writer: self,
                    done,
                    heard: false,
                };
                let heard = (&mut waiting.done).await;
                waiting.heard = true;
                match heard {
                    Ok(Answer::Done(result)) => return result,
                    Ok(Answer::Lead(task)) => {
                        let (answer, done) = oneshot::channel();
                        (
                            Job {
                                task: *task,
                                answer,
                            },
                            done,
                        )
                    }
                    Err(_) => return Err(gone()),
                }
            }
        };
        // Leading: this job's group runs now, on this worker (no await
        // until it is done, so it cannot be dropped half-way).
        self.lead(job);
        finish(done.await)
    }

    /// Runs `first` with the jobs queued (one group), then hands the lead
    /// on. The caller is the leader.
    fn lead(&self, first: Job) {
        let mut handing = Handover {
            writer: self,
            conn: None,
        };
        let mut first = Some(first);
        while let Some(job) = first.take() {
            let mut group = Vec::with_capacity(GROUP);
            group.push(job);
            {
                let mut state = self.state();
                let n = state.queue.len().min(GROUP - 1);
                group.extend(state.queue.drain(..n));
                handing.conn = state.conn.take();
            }
            let busy = match connection(&mut handing.conn, &self.path, Duration::ZERO) {
                Ok(c) => settle(c, group).err().map(|(jobs, _)| jobs),
                Err(_) => Some(group),
            };
            // No write lock (or no connection) for the leader: the thread
            // waits for it. Every job in flight holds a slot, and the
            // channel has room for as many.
            for job in busy.into_iter().flatten() {
                if let Err(e) = self.jobs.try_send(job) {
                    let job = match e {
                        mpsc::error::TrySendError::Full(job)
                        | mpsc::error::TrySendError::Closed(job) => job,
                    };
                    let _ = job.answer.send(Answer::Done(Err(gone())));
                }
            }
            first = handing.next();
        }
    }
}

/// Hands the lead on when a leader is done (also if it panicked): the
/// connection goes back, and the first queued job whose submitter still
/// waits leads next. A job whose submitter has gone is run by this leader
/// (`next`): a give-back must not be lost.
struct Handover<'w> {
    writer: &'w Writer,
    conn: Option<Connection>,
}

impl Handover<'_> {
    /// The job this leader runs next, or `None` when the lead was handed
    /// on or no job is queued.
    fn next(&mut self) -> Option<Job> {
        let mut state = self.writer.state();
        if let Some(conn) = self.conn.take() {
            state.conn = Some(conn);
        }
        while let Some(job) = state.queue.pop_front() {
            // A submitter dropped after this send leads from its `Waiting`'s
            // drop; one dropped before it makes the send fail.
            match job.answer.send(Answer::Lead(Box::new(job.task))) {
                Ok(()) => return None,
                Err(Answer::Lead(task)) => {
                    let (answer, _) = oneshot::channel();
                    return Some(Job {
                        task: *task,
                        answer,
                    });
                }
                Err(Answer::Done(_)) => {}
            }
        }
        state.leading = false;
        None
    }
}

impl Drop for Handover<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The group's statements panicked: hand on, without this
            // connection (its transaction state is unknown).
            self.conn = None;
            let mut next = self.next();
            // The job of a gone submitter, with no leader to run it: it
            // goes to the thread.
            if let Some(job) = next.take() {
                let _ = self.writer.jobs.try_send(job);
            }
        }
    }
}

/// A queued submitter's wait for its answer. Dropped before it heard (the
/// request was cancelled: a client that hung up), it closes its channel —
/// a hand-over sent after that fails, and the leader runs the job itself —
/// and takes up a lead that came before: the lead is never lost with it.
struct Waiting<'w> {
    writer: &'w Writer,
    done: oneshot::Receiver<Answer>,
    heard: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.heard {
            return;
        }
        self.done.close();
        if let Ok(Answer::Lead(task)) = self.done.try_recv() {
            let (answer, _) = oneshot::channel();
            self.writer.lead(Job {
                task: *task,
                answer,
            });
        }
    }
}

/// The result of an answer.
fn finish(answer: Result<Answer, oneshot::error::RecvError>) -> Result<Done, StoreError> {
    match answer {
        Ok(Answer::Done(result)) => result,
        Ok(Answer::Lead(_)) => Err(out_of_turn()),
        Err(_) => Err(gone()),
    }
}

impl Writer {
    pub(super) async fn reserve(&self, r: &Reservation<'_>) -> Result<ReserveOutcome, StoreError> {
        // A bad key is refused here, not inside a group (whose failure
        // would run every job of the group again alone).
        common::scope(r.key)?;
        let work = Work::Reserve {
            key: r.key.clone(),
            details: r.details.clone(),
            parameters: r.parameters.clone(),
            limit: r.limit,
            window: r.window,
            count_when_locked: r.count_when_locked,
            now: r.now,
            blocks: r.blocks.to_vec(),
            manual_only: r.manual_only,
        };
        match self.submit(work).await? {
            Done::Reserved(out) => Ok(*out),
            Done::Rows(_) => Err(out_of_turn()),
        }
    }

    /// Submits a job answered with a number of rows.
    async fn rows(&self, work: Work) -> Result<u64, StoreError> {
        match self.submit(work).await? {
            Done::Rows(n) => Ok(n),
            Done::Reserved(_) => Err(out_of_turn()),
        }
    }

    pub(super) async fn release(
        &self,
        key: &RecordKey,
        token: &ReservationToken,
    ) -> Result<(), StoreError> {
        common::scope(key)?;
        let work = Work::Release {
            key: key.clone(),
            token: token.clone(),
        };
        self.rows(work).await.map(drop)
    }

    pub(super) async fn clear_client(
        &self,
        key: &RecordKey,
        parameters: &LockoutParameters,
    ) -> Result<u64, StoreError> {
        common::scope(key)?;
        self.rows(Work::ClearClient {
            key: key.clone(),
            parameters: parameters.clone(),
        })
        .await
    }

    pub(super) async fn insert_access_log(&self, entry: &NewAccessLog) -> Result<(), StoreError> {
        self.rows(Work::AccessLog(entry.clone())).await.map(drop)
    }

    pub(super) async fn close_access_log(
        &self,
        username: &str,
        session_hash: &str,
        logout_time: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.rows(Work::CloseAccessLog {
            username: username.to_owned(),
            session_hash: session_hash.to_owned(),
            logout_time,
        })
        .await
    }

    pub(super) async fn insert_failure_log(
        &self,
        entry: &NewFailureLog,
        per_user_limit: u32,
    ) -> Result<(), StoreError> {
        self.rows(Work::FailureLog {
            entry: entry.clone(),
            per_user_limit,
        })
        .await
        .map(drop)
    }

    pub(super) async fn create_indexes(&self, mask: u8) -> Result<(), StoreError> {
        self.rows(Work::CreateIndexes(mask)).await.map(drop)
    }

    /// Purges a slice at a time, each its own job: logins queue behind one
    /// slice at most.
    pub(super) async fn purge_attempts(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let n = self.rows(Work::Purge(before)).await?;
            total += n;
            if n < PURGE_SLICE {
                return Ok(total);
            }
        }
    }
}

fn out_of_turn() -> StoreError {
    StoreError::Corrupt("writer answered out of turn".into())
}

fn open(path: &PathBuf, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(map)?;
    conn.busy_timeout(busy_timeout).map_err(map)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // WAL is a property of the file (sqlx set it when it opened it);
    // synchronous is one of the connection.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(map)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(map)?;
    // A statement of a group that may fail half-way keeps its undo in a
    // statement journal: in memory, not a temporary file made and removed
    // every few groups.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(map)?;
    Ok(conn)
}

/// The thread: takes the jobs waiting, runs them in one transaction,
/// answers after the commit. It runs the groups the leader could not (the
/// write lock was taken, see [`Writer::lead`]): its connection waits for
/// the lock up to the busy timeout.
fn run(path: &PathBuf, busy_timeout: Duration, mut rx: mpsc::Receiver<Job>) {
    let mut conn: Option<Connection> = None;
    let mut group = Vec::with_capacity(GROUP);
    while let Some(first) = rx.blocking_recv() {
        group.push(first);
        while group.len() < GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let jobs = std::mem::take(&mut group);
        match connection(&mut conn, path, busy_timeout) {
            Ok(c) => {
                // The write lock was not had (another process held it past
                // the busy timeout): every job gets that answer at once,
                // rather than each waiting the timeout again.
                if let Err((jobs, e)) = settle(c, jobs) {
                    answer_all(jobs, &e);
                }
            }
            Err(e) => answer_all(jobs, &e),
        }
    }
}

/// The open connection in `slot`, opened first if there is none.
fn connection<'c>(
    slot: &'c mut Option<Connection>,
    path: &PathBuf,
    busy_timeout: Duration,
) -> Result<&'c Connection, StoreError> {
    match slot {
        Some(c) => Ok(c),
        None => Ok(slot.insert(open(path, busy_timeout)?)),
    }
}

/// Answers every job with (a copy of) `e`.
fn answer_all(jobs: Vec<Job>, e: &StoreError) {
    let message = e.to_string();
    for job in jobs {
        let _ = job.answer.send(Answer::Done(Err(StoreError::Unavailable(
            message.clone().into(),
        ))));
    }
}

/// Runs `jobs` in one transaction and answers each after the commit. If a
/// job fails, each job runs again alone, so that one job's error is its
/// own. The jobs whose transaction could not begin (no write lock) did not
/// run: they come back, with the error.
fn settle(c: &Connection, jobs: Vec<Job>) -> Result<(), (Vec<Job>, StoreError)> {
    match transaction(c, &jobs) {
        Ok(results) => {
            for (job, result) in jobs.into_iter().zip(results) {
                let _ = job.answer.send(Answer::Done(Ok(result)));
            }
        }
        Err(Failed::Begin(e)) => return Err((jobs, e)),
        Err(Failed::Job(e)) if jobs.len() == 1 => {
            if let Some(job) = jobs.into_iter().next() {
                let _ = job.answer.send(Answer::Done(Err(e)));
            }
        }
        Err(Failed::Job(_)) => {
            // Alone, each may also find the lock taken by then: those come
            // back, like a group that could not begin.
            let mut unbegun = Vec::new();
            let mut busy = None;
            for job in jobs {
                match transaction(c, std::slice::from_ref(&job)) {
                    Ok(mut r) => {
                        let _ = job.answer.send(Answer::Done(Ok(r.swap_remove(0))));
                    }
                    Err(Failed::Begin(e)) => {
                        unbegun.push(job);
                        busy = Some(e);
                    }
                    Err(Failed::Job(e)) => {
                        let _ = job.answer.send(Answer::Done(Err(e)));
                    }
                }
            }
            if let Some(e) = busy {
                return Err((unbegun, e));
            }
        }
    }
    Ok(())
}

/// Why a group transaction failed.
enum Failed {
    /// `BEGIN IMMEDIATE` did not get the write lock.
    Begin(StoreError),
    /// A job or the commit failed; the transaction was rolled back.
    Job(StoreError),
}

/// Runs `jobs` in one `BEGIN IMMEDIATE` transaction; on any error rolls it
/// all back.
fn transaction(c: &Connection, jobs: &[Job]) -> Result<Vec<Done>, Failed> {
    c.prepare_cached("BEGIN IMMEDIATE")
        .and_then(|mut s| s.execute([]))
        .map_err(|e| Failed::Begin(map(e)))?;
    let results: Result<Vec<Done>, StoreError> = jobs.iter().map(|job| run_job(c, job)).collect();
    let committed = results.and_then(|r| {
        c.prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]))
            .map_err(map)?;
        Ok(r)
    });
    if committed.is_err() && !c.is_autocommit() {
        let _ = c.execute_batch("ROLLBACK");
    }
    committed.map_err(Failed::Job)
}

/// One job, inside the group's transaction.
fn run_job(c: &Connection, job: &Job) -> Result<Done, StoreError> {
    let rows = match &job.task.work {
        Work::Reserve { .. } => {
            return reserve(c, &job.task.work).map(|out| Done::Reserved(Box::new(out)));
        }
        Work::Release { key, token } => release(c, key, token).map(|()| 0)?,
        Work::ClearClient { key, parameters } => clear_client(c, key, parameters)?,
        Work::AccessLog(entry) => {
            let key = KeyCols::unscoped(&entry.key);
            execute(
                c,
                sql::INSERT_ACCESS_LOG,
                params![
                    key.ip,
                    key.username,
                    key.user_agent,
                    clip(&entry.http_accept, ACCEPT_LEN),
                    clip(&entry.path, PATH_LEN),
                    enc(micros(entry.attempt_time)),
                    clip(&entry.session_hash, SESSION_HASH_LEN),
                ],
            )?
        }
        Work::CloseAccessLog {
            username,
            session_hash,
            logout_time,
        } => execute(
            c,
            sql::CLOSE_ACCESS_LOG,
            params![
                enc(micros(*logout_time)),
                clip(username, USERNAME_LEN),
                clip(session_hash, SESSION_HASH_LEN),
            ],
        )?,
        Work::FailureLog {
            entry,
            per_user_limit,
        } => failure_log(c, entry, *per_user_limit)?,
        Work::CreateIndexes(mask) => {
            for statement in sql::on_demand_indexes(*mask) {
                execute(c, statement, &[])?;
            }
            0
        }
        Work::Purge(before) => execute(
            c,
            sql::PURGE_SLICE,
            params![enc(micros(*before)), PURGE_SLICE as i64],
        )?,
    };
    Ok(Done::Rows(rows))
}

/// Runs one cached statement; the rows it changed.
fn execute(c: &Connection, statement: &str, binds: &[&dyn ToSql]) -> Result<u64, StoreError> {
    c.prepare_cached(statement)
        .and_then(|mut s| s.execute(binds))
        .map(|n| n as u64)
        .map_err(map)
}

/// Deletes the records of the client's scope matching each alternative.
fn clear_client(
    c: &Connection,
    key: &RecordKey,
    parameters: &LockoutParameters,
) -> Result<u64, StoreError> {
    let key = KeyCols::of(key)?;
    let mut n = 0;
    for alt in parameters.alternatives() {
        let values = key.values(alt);
        let mut binds: Vec<&dyn ToSql> = Vec::with_capacity(4);
        binds.push(&key.scope);
        binds.extend(values.iter().map(|v| v as &dyn ToSql));
        n += execute(c, sql::DELETE_MATCHING[alt_index(alt)], &binds)?;
    }
    Ok(n)
}

/// A failure log row; then the username's rows beyond the newest
/// `per_user_limit` go.
fn failure_log(
    c: &Connection,
    entry: &NewFailureLog,
    per_user_limit: u32,
) -> Result<u64, StoreError> {
    let key = KeyCols::unscoped(&entry.key);
    let mut n = execute(
        c,
        sql::INSERT_FAILURE_LOG,
        params![
            key.ip,
            key.username,
            key.user_agent,
            clip(&entry.http_accept, ACCEPT_LEN),
            clip(&entry.path, PATH_LEN),
            enc(micros(entry.attempt_time)),
            entry.locked_out,
        ],
    )?;
    let cutoff: Option<i64> = c
        .prepare_cached(sql::FAILURE_LOG_CUTOFF)
        .and_then(|mut s| {
            s.query_row(params![key.username, i64::from(per_user_limit)], |row| {
                row.get(0)
            })
            .optional()
        })
        .map_err(map)?;
    if let Some(cutoff) = cutoff {
        n += execute(c, sql::FAILURE_LOG_TRIM, params![key.username, cutoff])?;
    }
    Ok(n)
}

/// Counts each alternative's live failures.
fn count_alternatives(
    c: &Connection,
    key: &KeyCols<'_>,
    parameters: &LockoutParameters,
    threshold: Option<i64>,
) -> Result<Vec<AlternativeCount>, StoreError> {
    let mut out = Vec::with_capacity(parameters.alternatives().len());
    for alt in parameters.alternatives() {
        let mut statement = c.prepare_cached(sql::COUNT[alt_index(alt)]).map_err(map)?;
        let values = key.values(alt);
        let mut binds: Vec<&dyn ToSql> = Vec::with_capacity(5);
        binds.push(&threshold);
        binds.push(&key.scope);
        binds.extend(values.iter().map(|v| v as &dyn ToSql));
        let (failures, last): (i64, Option<i64>) = statement
            .query_row(&binds[..], |row| row.try_into())
            .map_err(map)?;
        out.push(AlternativeCount {
            failures: common::count(failures)?,
            last_failure: last.map(dec).transpose()?,
        });
    }
    Ok(out)
}

/// One reservation, as [`super::SqliteStore`]'s `reserve` documents it.
fn reserve(c: &Connection, work: &Work) -> Result<ReserveOutcome, StoreError> {
    let Work::Reserve {
        key,
        details,
        parameters,
        limit,
        window,
        count_when_locked,
        now,
        blocks,
        manual_only,
    } = work
    else {
        return Err(StoreError::Corrupt("not a reservation".into()));
    };
    let key = KeyCols::of(key)?;
    if let Some(block) = super::blocks::refusing_block_on(c, blocks, *manual_only, *now)? {
        return Ok(crate::blocks::blocked(block));
    }
    let now = micros(*now);
    let threshold = threshold(now, *window).map(enc);
    let counts = count_alternatives(c, &key, parameters, threshold)?;
    let admitted = common::admits(*limit, &counts);
    if !admitted && !count_when_locked {
        return Ok(common::refused(counts));
    }
    let own: Option<(i64, i64)> = c
        .prepare_cached(sql::OWN_TIME)
        .and_then(|mut s| {
            s.query_row(
                params![key.ip, key.username, key.user_agent, key.scope],
                |row| row.try_into(),
            )
            .optional()
        })
        .map_err(map)?;
    if !admitted && own.is_none() {
        // Refused, with no record of its own: refresh the records that lock
        // it, never insert one (a locked client cannot grow the table).
        let rows = refresh_locking(c, &key, parameters, *limit, &counts, threshold, now)?;
        return Ok(ReserveOutcome {
            admitted,
            counted: !rows.is_empty(),
            failures: common::refreshed(counts, parameters, &key, &rows, now),
            token: None,
        });
    }
    let accept = clip(&details.http_accept, ACCEPT_LEN);
    let path = clip(&details.path, PATH_LEN);
    let get_data = clip(&details.get_data, DATA_LEN);
    let post_data = clip(&details.post_data, DATA_LEN);
    let upserted = |row: &rusqlite::Row<'_>| row.try_into();
    let (id, generation, serial, failures, time): common::Upserted<i64> = match own {
        None => c.prepare_cached(sql::INSERT_NEW).and_then(|mut s| {
            s.query_row(
                params![
                    key.ip,
                    key.username,
                    key.user_agent,
                    accept,
                    path,
                    get_data,
                    post_data,
                    enc(now),
                    key.scope,
                ],
                upserted,
            )
        }),
        Some((_, id)) => c.prepare_cached(sql::UPDATE_OWN).and_then(|mut s| {
            s.query_row(
                params![id, accept, path, get_data, post_data, enc(now), threshold],
                upserted,
            )
        }),
    }
    .map_err(map)?;
    let before = own.map(|(time, _)| dec(time)).transpose()?;
    let token = common::token((id, generation, serial, failures, dec(time)?), before)?;
    Ok(ReserveOutcome {
        admitted,
        counted: true,
        failures: common::plus_one(counts, now),
        token: Some(token),
    })
}

/// A refused attempt with no record of its own: one failure more on the
/// newest live record of each alternative that reached the limit (each
/// record once). Returns the records refreshed.
fn refresh_locking(
    c: &Connection,
    key: &KeyCols<'_>,
    parameters: &LockoutParameters,
    limit: Option<u32>,
    counts: &[AlternativeCount],
    threshold: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<common::Newest>, StoreError> {
    let alternatives = parameters.alternatives();
    let mut rows = Vec::new();
    for i in common::reached(limit, counts) {
        let Some(alt) = alternatives.get(i) else {
            continue;
        };
        let mut statement = c.prepare_cached(sql::NEWEST[alt_index(alt)]).map_err(map)?;
        let values = key.values(alt);
        let mut binds: Vec<&dyn ToSql> = Vec::with_capacity(5);
        binds.push(&threshold);
        binds.push(&key.scope);
        binds.extend(values.iter().map(|v| v as &dyn ToSql));
        let row: Option<common::Newest> = statement
            .query_row(&binds[..], |row| row.try_into())
            .optional()
            .map_err(map)?;
        if let Some(row) = row {
            common::push_unique(&mut rows, row);
        }
    }
    let mut refresh = c.prepare_cached(sql::REFRESH).map_err(map)?;
    for row in &rows {
        refresh.execute(params![row.0, enc(now)]).map_err(map)?;
    }
    Ok(rows)
}

/// One give-back, as [`super::SqliteStore`]'s `release` documents it.
fn release(c: &Connection, key: &RecordKey, token: &ReservationToken) -> Result<(), StoreError> {
    let Some((id, generation, serial)) = common::token_columns(token) else {
        return Ok(());
    };
    let key = KeyCols::of(key)?;
    let deleted = c
        .prepare_cached(sql::DELETE_LAST)
        .and_then(|mut s| {
            s.execute(params![
                id,
                generation,
                key.ip,
                key.username,
                key.user_agent,
                key.scope
            ])
        })
        .map_err(map)?;
    if deleted == 0 {
        let previous = token.previous_time.map(micros).map(enc);
        c.prepare_cached(sql::GIVE_BACK)
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    generation,
                    key.ip,
                    key.username,
                    key.user_agent,
                    key.scope,
                    previous,
                    serial,
                    enc(micros(token.reserved_at)),
                ])
            })
            .map_err(map)?;
    }
    Ok(())
}
