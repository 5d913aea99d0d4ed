/// The `/sandboxes` JSON document: one object per sandbox with its metadata and last-round status.
enum SandboxJSON {
    static func render(_ records: [SandboxRecord]) -> String {
        var out = "["
        for (index, record) in records.enumerated() {
            if index > 0 { out += "," }
            out += "{"
            out += field("id", string(record.id)) + ","
            out +=
                field(
                    "metadata",
                    "{" + field("uid", string(record.labels.criUID)) + ","
                        + field("name", string(record.labels.criName))
                        + "," + field("namespace", string(record.labels.criNamespace)) + "}") + ","
            out += field("socket", record.socketPath.map(string) ?? "null") + ","
            out += field("status", string(record.isUp ? "up" : record.lastAttempt == nil ? "pending" : "failing")) + ","
            out += field("last_attempt", record.lastAttempt.map(number) ?? "null") + ","
            out += field("last_success", record.lastSuccess.map(number) ?? "null") + ","
            out += field("last_error_reason", record.lastFailure.map { string($0.rawValue) } ?? "null") + ","
            out += field("last_error", record.lastError.map(string) ?? "null") + ","
            out += field("samples", String(record.rendered?.sampleCount ?? 0))
            out += "}"
        }
        return out + "]\n"
    }

    private static func field(_ name: String, _ value: String) -> String { string(name) + ":" + value }

    private static func number(_ value: Double) -> String {
        var bytes: [UInt8] = []
        ExpositionRenderer.appendValue(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func string(_ text: String) -> String { JSONText.quoted(text) }
}
