import Logging
import Testing

@testable import KataPulse

@Suite struct SystemdTests {
    @Test func journalFieldNamesFromMetadataKeys() {
        #expect(JournaldLogHandler.fieldName("sandbox_id") == "SANDBOX_ID")
        #expect(JournaldLogHandler.fieldName("cri-namespace") == "CRI_NAMESPACE")
        #expect(JournaldLogHandler.fieldName("_trusted") == "TRUSTED")  // leading _ is the journal's own
        #expect(JournaldLogHandler.fieldName("9lives") == "F9LIVES")
        #expect(JournaldLogHandler.fieldName("message") == "META_MESSAGE")  // never overrides MESSAGE
        #expect(JournaldLogHandler.fieldName("___") == nil)
        #expect(JournaldLogHandler.fieldName(String(repeating: "a", count: 100))?.count == 64)
    }

    @Test func syslogPriorities() {
        let expected: [(Logger.Level, Int)] = [
            (.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
        ]
        for (level, priority) in expected { #expect(JournaldLogHandler.priority(level) == priority) }
    }

    @Test func stderrIsJournalOnlyWhenJournalStreamNamesIt() {
        #expect(!JournaldLogHandler.stderrIsJournal(environment: [:]))
        #expect(!JournaldLogHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "1:2"]))
        #expect(!JournaldLogHandler.stderrIsJournal(environment: ["JOURNAL_STREAM": "garbage"]))
        #expect(LogFormat.auto.resolved(environment: [:]) == .logfmt)
        #expect(LogFormat.json.resolved(environment: [:]) == .json)
    }

    @Test func rateLimiterHoldsBackAStormAndReportsIt() {
        let limiter = LogRateLimiter(burst: 3, window: .seconds(60))
        let start = ContinuousClock.now
        let first = (0..<10).map { limiter.admit("shim failed\u{0}sb1", now: start + .seconds($0)) }
        #expect(first.map(\.allowed) == [true, true, true, false, false, false, false, false, false, false])
        // Another sandbox, or another message, has its own budget.
        #expect(limiter.admit("shim failed\u{0}sb2", now: start + .seconds(10)).allowed)
        // The next window lets entries through again and says how many were held back.
        let later = limiter.admit("shim failed\u{0}sb1", now: start + .seconds(61))
        #expect(later.allowed && later.suppressed == 7)
        #expect(limiter.admit("shim failed\u{0}sb1", now: start + .seconds(62)).suppressed == 0)
    }

    @Test func statusLines() {
        let summary = RoundSummary(sandboxes: 12, up: 11, failing: 1, durationSeconds: 0.2134)
        #expect(summary.statusLine == "12 sandboxes: 11 served, 1 failing; last round 0.21 s")
        #expect(SystemdNotifier.clean("a\nb\rc") == "a b c")
        #expect(!SystemdNotifier(environment: [:]).isEnabled)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x"]).isEnabled)
    }

    @Test func withoutSocketActivationThereAreNoPassedListeners() throws {
        #expect(try SystemdListeners.take().isEmpty)
    }
}
