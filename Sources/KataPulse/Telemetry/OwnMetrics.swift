/// The agent's own metric families: kata-monitor's, with their exact names and HELP, then `kata_pulse_*`.
public enum OwnMetrics {
    /// Names of the families rendered per request (they count HTTP scrapes), in output order.
    public static let requestFamilyNames = [
        "kata_monitor_running_shim_count", "kata_monitor_scrape_count", "kata_monitor_scrape_failed_count",
    ]

    /// Families that describe HTTP scrapes of `/metrics`; rendered per request, in front of the snapshot body.
    public static func requestFamilies(runningShimCount: Int, scrapeCount: Int, scrapeFailedCount: Int)
        -> [MetricFamily]
    {
        [
            MetricFamily(
                name: "kata_monitor_running_shim_count", help: "Running shim count(running sandboxes).",
                type: .gauge,
                samples: [Sample(name: "kata_monitor_running_shim_count", value: Double(runningShimCount))]),
            MetricFamily(
                name: "kata_monitor_scrape_count", help: "Scape count.", type: .counter,
                samples: [Sample(name: "kata_monitor_scrape_count", value: Double(scrapeCount))]),
            MetricFamily(
                name: "kata_monitor_scrape_failed_count", help: "Failed scape count.", type: .counter,
                samples: [Sample(name: "kata_monitor_scrape_failed_count", value: Double(scrapeFailedCount))]),
        ]
    }

    /// Families that describe collection; rendered once per snapshot, first in its body.
    static func collectionFamilies(
        sandboxes: [SandboxRecord], statistics: CollectionStatistics, typeConflicts: Int, version: String,
        extra: [MetricFamily] = []
    ) -> [MetricFamily] {
        var families: [MetricFamily] = []
        families.append(histogram(statistics.shimDurations))
        families.append(
            gauge(
                "kata_pulse_build_info", "KataPulse build information; the value is always 1.",
                [Sample(name: "kata_pulse_build_info", labels: [Label("version", version)], value: 1)]))
        families.append(
            MetricFamily(
                name: "kata_pulse_collection_rounds_total", help: "Collection rounds completed.", type: .counter,
                samples: [Sample(name: "kata_pulse_collection_rounds_total", value: Double(statistics.rounds))]))
        families.append(
            gauge(
                "kata_pulse_collection_round_duration_seconds", "Wall time of the last collection round.",
                [
                    Sample(
                        name: "kata_pulse_collection_round_duration_seconds",
                        value: statistics.lastRoundDurationSeconds)
                ]))
        families.append(
            MetricFamily(
                name: "kata_pulse_dropped_samples_total",
                help: "Shim samples left out while relabelling, by reason.", type: .counter,
                samples: [
                    Sample(
                        name: "kata_pulse_dropped_samples_total", labels: [Label("reason", "duplicate_series")],
                        value: Double(statistics.duplicateSeriesDropped)),
                    Sample(
                        name: "kata_pulse_dropped_samples_total", labels: [Label("reason", "reserved_name")],
                        value: Double(statistics.reservedFamilySamplesDropped)),
                ]))
        if let end = statistics.lastRoundEnd {
            families.append(
                gauge(
                    "kata_pulse_last_collection_timestamp_seconds", "Unix time the last collection round ended.",
                    [Sample(name: "kata_pulse_last_collection_timestamp_seconds", value: end)]))
        }
        let identities = sandboxes.map(\.labels.labels)
        families.append(
            gauge(
                "kata_pulse_sandbox_last_success_timestamp_seconds",
                "Unix time of the last successful collection of the sandbox's shim.",
                zip(sandboxes, identities).compactMap { record, labels in
                    record.lastSuccess.map {
                        Sample(name: "kata_pulse_sandbox_last_success_timestamp_seconds", labels: labels, value: $0)
                    }
                }))
        families.append(
            gauge(
                "kata_pulse_sandbox_samples", "Samples the sandbox contributes to the last snapshot.",
                zip(sandboxes, identities).map { record, labels in
                    Sample(
                        name: "kata_pulse_sandbox_samples", labels: labels,
                        value: Double(record.rendered?.sampleCount ?? 0))
                }))
        families.append(
            gauge(
                "kata_pulse_sandbox_up", "Whether the last collection of the sandbox's shim succeeded (1) or not (0).",
                zip(sandboxes, identities).map { record, labels in
                    Sample(name: "kata_pulse_sandbox_up", labels: labels, value: record.isUp ? 1 : 0)
                }))
        families.append(
            MetricFamily(
                name: "kata_pulse_shim_scrape_errors_total", help: "Failed shim collections, by reason.",
                type: .counter,
                samples: ScrapeFailureReason.allCases.sorted().map { reason in
                    Sample(
                        name: "kata_pulse_shim_scrape_errors_total", labels: [Label("reason", reason.rawValue)],
                        value: Double(statistics.scrapeErrors[reason, default: 0]))
                }))
        families.append(
            gauge(
                "kata_pulse_type_conflicts",
                "Sandbox families left out of the snapshot because their TYPE disagrees with other sandboxes'.",
                [Sample(name: "kata_pulse_type_conflicts", value: Double(typeConflicts))]))
        families += extra
        // The histogram keeps kata-monitor's place; the kata_pulse_* families follow sorted by name.
        return [families[0]] + families.dropFirst().filter { !$0.samples.isEmpty }.sorted { $0.name < $1.name }
    }

    private static func gauge(_ name: String, _ help: String, _ samples: [Sample]) -> MetricFamily {
        MetricFamily(name: name, help: help, type: .gauge, samples: samples)
    }

    private static func histogram(_ histogram: FixedHistogram) -> MetricFamily {
        let name = "kata_monitor_scrape_durations_histogram_milliseconds"
        return MetricFamily(
            name: name, help: "Time used to scrape from shims", type: .histogram,
            samples: histogram.samples(name: name))
    }
}

extension FixedHistogram {
    /// The histogram's `_bucket` (cumulative, with `+Inf`), `_sum` and `_count` samples.
    func samples(name: String, labels: [Label] = []) -> [Sample] {
        var samples: [Sample] = []
        for (bound, count) in zip(upperBounds, bucketCounts) {
            samples.append(
                Sample(
                    name: name + "_bucket", labels: labels + [Label("le", Self.boundLabel(bound))], value: Double(count)
                ))
        }
        samples.append(Sample(name: name + "_bucket", labels: labels + [Label("le", "+Inf")], value: Double(count)))
        samples.append(Sample(name: name + "_sum", labels: labels, value: sum))
        samples.append(Sample(name: name + "_count", labels: labels, value: Double(count)))
        return samples
    }

    private static func boundLabel(_ bound: Double) -> String {
        var out: [UInt8] = []
        ExpositionRenderer.appendValue(bound, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
