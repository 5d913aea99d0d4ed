/// What an export receives: the snapshot's collection families and the selected series, without the families
/// that describe the HTTP API (`kata_monitor_scrape_count`, `…_failed_count`, `kata_pulse_http_*`).
enum ExportBody {
    static func render(_ snapshot: Snapshot, exposition: ExpositionSet) -> [UInt8] {
        var body = ExpositionRenderer.render([OwnMetrics.runningShimCount.family(Double(snapshot.runningShimCount))])
        for span in snapshot.families where includes(span.name, exposition) {
            for part in snapshot.parts[span.parts] { body.append(contentsOf: part.readableBytesView) }
        }
        return body
    }

    static func includes(_ family: String, _ exposition: ExpositionSet) -> Bool {
        if family.hasPrefix("kata_pulse_http_") { return false }
        if family.hasPrefix("kata_monitor_") || family.hasPrefix("kata_pulse_") { return true }
        return family.hasPrefix("container_") ? exposition.contains(.cadvisor) : exposition.contains(.kata)
    }
}
