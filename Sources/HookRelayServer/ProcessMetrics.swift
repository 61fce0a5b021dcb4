import Foundation
import Prometheus
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The process metrics every Prometheus client library exports, with their usual names, read
/// from `/proc/self` at each scrape (Linux; elsewhere they stay at zero).
final class ProcessMetrics: Sendable {
    private let cpu: Counter
    private let counted = Mutex(0.0)
    private let residentMemory: Gauge
    private let openDescriptors: Gauge
    private let maxDescriptors: Gauge
    private let startTime: Gauge

    init(registry: PrometheusCollectorRegistry) {
        cpu = registry.makeCounter(descriptor: .named("process_cpu_seconds_total", "Total user and system CPU time spent in seconds."))
        residentMemory = registry.makeGauge(descriptor: .named("process_resident_memory_bytes", "Resident memory size in bytes."))
        openDescriptors = registry.makeGauge(descriptor: .named("process_open_fds", "Number of open file descriptors."))
        maxDescriptors = registry.makeGauge(descriptor: .named("process_max_fds", "Maximum number of open file descriptors."))
        startTime = registry.makeGauge(descriptor: .named("process_start_time_seconds", "Start time of the process since unix epoch in seconds."))
        if let start = Self.startTime() { startTime.set(start) }
    }

    func update() {
        if let seconds = Self.cpuSeconds() {
            // A counter only goes up: add what was spent since the last scrape.
            let delta = counted.withLock { counted -> Double in
                defer { counted = max(counted, seconds) }
                return max(0, seconds - counted)
            }
            if delta > 0 { cpu.increment(by: delta) }
        }
        if let pages = Self.fields("/proc/self/statm").dropFirst().first.flatMap({ Double($0) }) {
            residentMemory.set(pages * Double(sysconf(Int32(_SC_PAGESIZE))))
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            openDescriptors.set(Int64(entries.count))
        }
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            maxDescriptors.set(Double(limit.rlim_cur == rlim_t.max ? 0 : limit.rlim_cur))
        }
    }

    private static func fields(_ path: String) -> [Substring] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(whereSeparator: \.isWhitespace)
    }

    /// `/proc/self/stat` after the command name (which may hold spaces): fields 3 onwards.
    private static func stat() -> [Substring] {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8), let end = text.lastIndex(of: ")") else { return [] }
        return text[text.index(after: end)...].split(whereSeparator: \.isWhitespace)
    }

    private static var ticks: Double { Double(sysconf(Int32(_SC_CLK_TCK))) }

    /// utime + stime (fields 14 and 15).
    static func cpuSeconds() -> Double? {
        let fields = stat()
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / ticks
    }

    /// The boot time (`btime` of /proc/stat) plus the process's start in ticks after it (field 22).
    static func startTime() -> Double? {
        let fields = stat()
        guard fields.count > 19, let started = Double(fields[19]),
              let boot = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8))?
                .split(separator: "\n").first(where: { $0.hasPrefix("btime ") })?.split(separator: " ").last.flatMap({ Double($0) })
        else { return nil }
        return boot + started / ticks
    }
}

extension MetricNameDescriptor {
    /// A metric's whole name (its unit in it) and its `# HELP` text.
    static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
