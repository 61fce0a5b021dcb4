import Dispatch
import HookRelayCore
import NIOCore
import NIOPosix
import Synchronization

/// Runs postgres-nio's async calls for the store's synchronous protocols: each call becomes a
/// task on one NIO event loop (its task executor preference) while the calling thread waits.
///
/// The store protocols are synchronous and used from one thread at a time: the dispatcher's own
/// `Thread`, a serial `DispatchQueue`, an admin command's main thread. Those may block. The
/// calling thread must never be the bridge's event loop (that deadlocks at once; checked), and
/// should not be a Swift-concurrency cooperative thread: the pool has one thread per core, and
/// with two cores two waiting calls would hold it all. The tasks themselves never need the
/// cooperative pool (postgres-nio's connections and the client's pool run on the same loop, and a
/// task with an executor preference runs its nonisolated code there), which is why a wait on a
/// cooperative thread still finishes, only at the cost of that thread.
final class BlockingBridge: Sendable {
    /// One event-loop thread for every PostgreSQL store of the process: the connections' I/O and
    /// the tasks that drive them, so a response resumes its task without waking another thread.
    static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    let eventLoop: any EventLoop
    let executor: LoopTaskExecutor
    /// How long past its limit a call waits for its cancelled task to end.
    let cancellationGrace: Duration

    init(eventLoop: any EventLoop = BlockingBridge.eventLoops.next(), cancellationGrace: Duration = .seconds(5)) {
        self.eventLoop = eventLoop
        executor = LoopTaskExecutor(eventLoop)
        self.cancellationGrace = cancellationGrace
    }

    /// Runs `body` on the event loop and waits for its result on the calling thread; after
    /// `timeout`, `body` is cancelled (a connection still being made, a lease still waited for)
    /// and ``TimedOut`` thrown.
    func run<T: Sendable>(timeout: Duration, _ body: @escaping @Sendable () async throws -> T) throws -> T {
        try run(timeout: timeout, connectWithin: nil) { _ in try await body() }
    }

    /// Runs `body` as ``run(timeout:_:)`` does, and fails it sooner, after `connectWithin`, when
    /// it has not yet called its ``Connected`` by then: while the server is down, postgres-nio's
    /// pool keeps a lease waiting (it retries connecting for a minute before failing requests),
    /// and a caller should hear within seconds that the database is unavailable.
    func run<T: Sendable>(
        timeout: Duration, connectWithin: Duration?, _ body: @escaping @Sendable (Connected) async throws -> T
    ) throws -> T {
        precondition(!eventLoop.inEventLoop, "a PostgreSQL store was called on its own event loop: that waits forever")
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        start(timeout: timeout, connectWithin: connectWithin, body) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        // The task ends when its limit cancels it; should something it awaits not heed the
        // cancellation, the caller still goes on (once a suite run hung here for good in ingest,
        // during an outage): the task is left to end by itself.
        guard done.wait(timeout: .now() + .milliseconds(Int((timeout + cancellationGrace).milliseconds))) == .success else {
            throw TimedOut(after: timeout)
        }
        return try outcome.withLock { $0 }!.get()
    }


    /// Starts `body` on the event loop under the limits of ``run(timeout:connectWithin:_:)`` and
    /// returns at once; `then` gets the result on the event loop. What a caller uses that goes on
    /// from the result without a thread waiting for it (``PostgresStore``'s chained rounds): no
    /// thread is woken between the answer and the next statement.
    func start<T: Sendable>(
        timeout: Duration, connectWithin: Duration?, _ body: @escaping @Sendable (Connected) async throws -> T,
        then: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        // The limits are timers on the event loop that cancel the task: a call costs one task
        // and no child tasks or sleeps (the store's calls are many small ones a second).
        let call = Call()
        let task = Task(executorPreference: executor) {
            var result: Result<T, any Error>
            do {
                result = .success(try await body(call.connected))
            } catch {
                result = .failure(error)
            }
            let (limits, timedOut) = call.state.withLock { state in
                state.ended = true
                return (state.limits, state.timedOut)
            }
            for limit in limits { limit.cancel() }
            if case let .failure(error) = result, let timedOut, !(error is TimedOut) { result = .failure(timedOut) }
            then(result)
        }
        func limit(after: Duration, connecting: Bool) -> Scheduled<Void> {
            eventLoop.scheduleTask(in: TimeAmount(after)) {
                guard !connecting || !call.connected.done.load(ordering: .acquiring) else { return }
                call.state.withLock { $0.timedOut = $0.timedOut ?? TimedOut(after: after, connecting: connecting) }
                task.cancel()
            }
        }
        var limits = [limit(after: timeout, connecting: false)]
        if let connectWithin, connectWithin < timeout { limits.append(limit(after: connectWithin, connecting: true)) }
        // The task ends soon after it is cancelled: what it waits for (a connection, a lease) ends at cancellation.
        let ended = call.state.withLock { state in
            state.limits = limits
            return state.ended
        }
        if ended { for limit in limits { limit.cancel() } }
    }
}

/// One call's limits, the first it ran into, and whether its task has ended.
private final class Call: Sendable {
    let state = Mutex<(limits: [Scheduled<Void>], timedOut: TimedOut?, ended: Bool)>(([], nil, false))
    let connected = Connected()
}

/// What a call's body reports to ``BlockingBridge/run(timeout:connectWithin:_:)``: it has a connection.
final class Connected: Sendable {
    let done = Atomic<Bool>(false)

    func callAsFunction() { done.store(true, ordering: .releasing) }
}

/// The database did not answer in time (no connection could be made, or a lease or a statement
/// took longer than the store allows).
struct TimedOut: Error, CustomStringConvertible {
    let after: Duration
    var connecting = false

    var description: String {
        let time = after < .seconds(1) ? "\(after.milliseconds) ms" : "\(after.components.seconds) s"
        return connecting
            ? "no connection to the database within \(time): is the server running, and the URL right?"
            : "no answer within \(time): is the server running, and the URL right?"
    }
}

/// A task executor that runs jobs on one SwiftNIO event loop.
final class LoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
