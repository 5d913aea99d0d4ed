/// The agent's own metric families: kata-monitor's, with their exact names and HELP, then `kata_pulse_*`.
public enum OwnMetrics {
    static let runningShimCount = OwnMetric.gauge(
        "kata_monitor_running_shim_count", "Running shim count(running sandboxes).")
    static let scrapeCount = OwnMetric.counter("kata_monitor_scrape_count", "Scape count.")
    static let scrapeFailedCount = OwnMetric.counter("kata_monitor_scrape_failed_count", "Failed scape count.")
    static let shimScrapeDurations = OwnMetric.histogram(
        "kata_monitor_scrape_durations_histogram_milliseconds", "Time used to scrape from shims")
    static let buildInfo = OwnMetric.gauge(
        "kata_pulse_build_info", "KataPulse build information; the value is always 1.")
    static let collectionRounds = OwnMetric.counter(
        "kata_pulse_collection_rounds_total", "Collection rounds completed.")
    static let collectionInterval = OwnMetric.gauge(
        "kata_pulse_collection_interval_seconds", "Configured time between collection rounds.")
    static let roundDuration = OwnMetric.gauge(
        "kata_pulse_collection_round_duration_seconds", "Wall time of the last collection round.")
    static let droppedSamples = OwnMetric.counter(
        "kata_pulse_dropped_samples_total", "Shim samples left out while relabelling, by reason.")
    static let lastCollection = OwnMetric.gauge(
        "kata_pulse_last_collection_timestamp_seconds", "Unix time the last collection round ended.")
    static let sandboxLastSuccess = OwnMetric.gauge(
        "kata_pulse_sandbox_last_success_timestamp_seconds",
        "Unix time of the last successful collection of the sandbox's shim.")
    static let sandboxSamples = OwnMetric.gauge(
        "kata_pulse_sandbox_samples", "Samples the sandbox contributes to the last snapshot.")
    static let sandboxSkipped = OwnMetric.gauge(
        "kata_pulse_sandbox_skipped",
        "Sandboxes whose shim is not asked for metrics because it would abort (runtime-rs QEMU and Firecracker "
            + "shims), by hypervisor.")
    static let sandboxUp = OwnMetric.gauge(
        "kata_pulse_sandbox_up", "Whether the last collection of the sandbox's shim succeeded (1) or not (0).")
    static let shimScrapeErrors = OwnMetric.counter(
        "kata_pulse_shim_scrape_errors_total", "Failed shim collections, by reason.")
    static let typeConflicts = OwnMetric.gauge(
        "kata_pulse_type_conflicts",
        "Sandbox families left out of the snapshot because their TYPE disagrees with other sandboxes'.")

    /// Names of the families rendered per request (they count HTTP scrapes), in output order.
    public static let requestFamilyNames = [runningShimCount, scrapeCount, scrapeFailedCount].map(\.name)

    /// Families that describe HTTP scrapes of `/metrics`; rendered per request, in front of the snapshot body.
    public static func requestFamilies(runningShimCount: Int, scrapeCount: Int, scrapeFailedCount: Int)
        -> [MetricFamily]
    {
        [
            Self.runningShimCount.family(Double(runningShimCount)),
            Self.scrapeCount.family(Double(scrapeCount)),
            Self.scrapeFailedCount.family(Double(scrapeFailedCount)),
        ]
    }

    /// Families that describe collection; rendered once per snapshot, first in its body.
    static func collectionFamilies(
        sandboxes: [SandboxRecord], statistics: CollectionStatistics, typeConflicts: Int, version: String,
        extra: [MetricFamily] = []
    ) -> [MetricFamily] {
        let identities = sandboxes.map(\.labels.labels)
        var families = [
            buildInfo.family(1, labels: [Label("version", version)]),
            collectionRounds.family(Double(statistics.rounds)),
            roundDuration.family(statistics.lastRoundDurationSeconds),
            collectionInterval.family(statistics.intervalSeconds.map { [collectionInterval.sample($0)] } ?? []),
            droppedSamples.family([
                droppedSamples.sample(
                    Double(statistics.duplicateSeriesDropped), labels: [Label("reason", "duplicate_series")]),
                droppedSamples.sample(
                    Double(statistics.reservedFamilySamplesDropped), labels: [Label("reason", "reserved_name")]),
            ]),
            lastCollection.family(statistics.lastRoundEnd.map { [lastCollection.sample($0)] } ?? []),
            sandboxLastSuccess.family(
                zip(sandboxes, identities).compactMap { record, labels in
                    record.lastSuccess.map { sandboxLastSuccess.sample($0, labels: labels) }
                }),
            sandboxSamples.family(
                zip(sandboxes, identities).map { record, labels in
                    sandboxSamples.sample(Double(record.rendered?.sampleCount ?? 0), labels: labels)
                }),
            sandboxUp.family(
                zip(sandboxes, identities).compactMap { record, labels in
                    // A skipped sandbox is neither up nor failing: it has its own family.
                    if case .skipped = record.hold { return nil }
                    return sandboxUp.sample(record.isUp ? 1 : 0, labels: labels)
                }),
            sandboxSkipped.family(
                zip(sandboxes, identities).compactMap { record, labels in
                    guard case .skipped(let hypervisor) = record.hold else { return nil }
                    return sandboxSkipped.sample(1, labels: labels + [Label("hypervisor", hypervisor)])
                }),
            shimScrapeErrors.family(
                ScrapeFailureReason.allCases.sorted().map { reason in
                    shimScrapeErrors.sample(
                        Double(statistics.scrapeErrors[reason, default: 0]), labels: [Label("reason", reason.rawValue)])
                }),
            Self.typeConflicts.family(Double(typeConflicts)),
        ]
        families += extra
        // The histogram keeps kata-monitor's place; the kata_pulse_* families follow sorted by name.
        return [shimScrapeDurations.family(shimScrapeDurations.histogramSamples(statistics.shimDurations))]
            + families.filter { !$0.samples.isEmpty }.sorted { $0.name < $1.name }
    }
}
