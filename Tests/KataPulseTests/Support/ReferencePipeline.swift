@testable import KataPulse

/// The collector's published rendering computed step by step (parse, ``Relabeler``, ``CadvisorMapper``, sort,
/// render): the model the one-pass ``SandboxRenderer`` is held to, byte for byte.
enum ReferencePipeline {
    static func published(
        _ body: [UInt8], for target: Collector.CollectionTarget, configuration: Collector.Configuration, now: Double
    ) throws(ExpositionError) -> (RenderedSandbox, Collector.RelabelResultCounts) {
        let families = try ExpositionParser(limits: configuration.limits).parse(body)
        var published: [MetricFamily] = []
        var counts = Collector.RelabelResultCounts(duplicateSeries: 0, reservedFamilySamples: 0)
        if configuration.exposition.contains(.kata) {
            let relabelled = Relabeler.relabel(families, with: target.labels)
            published = relabelled.families
            counts = Collector.RelabelResultCounts(
                duplicateSeries: relabelled.duplicateSeries, reservedFamilySamples: relabelled.reservedFamilySamples)
        }
        if configuration.exposition.contains(.cadvisor) {
            let identity = CadvisorIdentity(
                sandboxID: target.id, namespace: target.labels.criNamespace, pod: target.labels.criName,
                vmContainer: configuration.cadvisor.vmContainer, startTime: target.startTime)
            published += CadvisorMapper.map(families, identity: identity, disks: configuration.cadvisor.disks, now: now)
            published.sort { $0.name < $1.name }
        }
        return (RenderedSandbox(id: target.id, families: published, labels: target.labels), counts)
    }

    /// Where the collector's rendering of `body` differs from the model's (bytes, families, counts, or the
    /// rejection), or nil when they agree.
    static func difference(
        _ body: [UInt8], for target: Collector.CollectionTarget, configuration: Collector.Configuration,
        now: Double = 1_764_000_000.5
    ) -> String? {
        var publication: Collector.Publication?
        return difference(body, for: target, configuration: configuration, now: now, publication: &publication)
    }

    /// The same, with what the collector published (nil when it rejected the body).
    static func difference(
        _ body: [UInt8], for target: Collector.CollectionTarget, configuration: Collector.Configuration,
        now: Double = 1_764_000_000.5, publication: inout Collector.Publication?
    ) -> String? {
        publication = nil
        let expected: Result<(RenderedSandbox, Collector.RelabelResultCounts), ExpositionError> = Result {
            () throws(ExpositionError) in try published(body, for: target, configuration: configuration, now: now)
        }
        let actual: Result<(RenderedSandbox, Collector.RelabelResultCounts), ExpositionError> = Result {
            () throws(ExpositionError) in
            let published = try Collector.published(body, for: target, configuration: configuration, now: now)
            publication = published
            return (published.rendering, published.counts)
        }
        switch (expected, actual) {
        case (.failure(let lhs), .failure(let rhs)):
            return lhs == rhs ? nil : "rejected as \(lhs) by the model, as \(rhs) by the collector"
        case (.failure(let error), .success):
            return "the model rejects (\(error)), the collector accepts"
        case (.success, .failure(let error)):
            return "the collector rejects (\(error)), the model accepts"
        case (.success(let lhs), .success(let rhs)):
            if lhs.0.body != rhs.0.body {
                let left = lhs.0.body.split(separator: 0x0A, omittingEmptySubsequences: false)
                let right = rhs.0.body.split(separator: 0x0A, omittingEmptySubsequences: false)
                let line =
                    (0..<min(left.count, right.count)).first { left[$0] != right[$0] } ?? min(left.count, right.count)
                let model = line < left.count ? "\(Array(left[line]))" : "<end>"
                let collector = line < right.count ? "\(Array(right[line]))" : "<end>"
                return "bodies differ at line \(line + 1): model \(model), collector \(collector)"
            }
            if lhs.0.families != rhs.0.families {
                return "family index differs: \(lhs.0.families) vs \(rhs.0.families)"
            }
            if lhs.0.labels != rhs.0.labels { return "labels differ" }
            if lhs.1.duplicateSeries != rhs.1.duplicateSeries
                || lhs.1.reservedFamilySamples != rhs.1.reservedFamilySamples
            {
                return "counts differ: model \(lhs.1), collector \(rhs.1)"
            }
            return nil
        }
    }
}
