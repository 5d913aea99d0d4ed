import Synchronization

/// Counters of `/metrics` requests, published as kata-monitor's `scrape_count` and `scrape_failed_count`.
final class ScrapeCounters: Sendable {
    private let scrapes = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)

    init() {}

    var scrapeCount: Int { scrapes.load(ordering: .relaxed) }
    var failedCount: Int { failures.load(ordering: .relaxed) }

    func countScrape() -> Int { scrapes.add(1, ordering: .relaxed).newValue }
    func countFailure() { failures.add(1, ordering: .relaxed) }
}
