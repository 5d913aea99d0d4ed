/// The `/sandboxes` JSON document: one object per sandbox with its metadata and last-round status.
enum SandboxJSON {
    /// `metadata.pending` is true while CRI is enabled and has not described the sandbox yet.
    static func render(_ records: [SandboxRecord], criEnabled: Bool = false) -> String {
        var out = "["
        for (index, record) in records.enumerated() {
            if index > 0 { out += "," }
            out += "{"
            out += field("id", string(record.id)) + ","
            let metadata = record.metadata
            let fields = [
                field("uid", string(record.labels.criUID)), field("name", string(record.labels.criName)),
                field("namespace", string(record.labels.criNamespace)),
                field("created_at", metadata?.createdAt.map(number) ?? "null"),
                field("runtime_handler", metadata.map { string($0.runtimeHandler) } ?? "null"),
                field("state", metadata.map { string($0.state.rawValue) } ?? "null"),
                field("pending", criEnabled && metadata == nil ? "true" : "false"),
            ]
            out += field("metadata", "{" + fields.joined(separator: ",") + "}") + ","
            out += field("socket", record.socketPath.map(string) ?? "null") + ","
            out += field("status", string(record.status)) + ","
            out += field("last_attempt", record.lastAttempt.map(number) ?? "null") + ","
            out += field("last_success", record.lastSuccess.map(number) ?? "null") + ","
            out += field("last_error_reason", record.lastFailure.map { string($0.rawValue) } ?? "null") + ","
            out += field("last_error", record.lastError.map(string) ?? "null") + ","
            var skipped = "null"
            if case .skipped(let hypervisor) = record.hold { skipped = string(hypervisor) }
            out += field("skipped_hypervisor", skipped) + ","
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
