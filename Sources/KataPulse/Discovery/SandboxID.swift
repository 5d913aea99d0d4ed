/// Validation of sandbox ids, which name directories and become label values.
///
/// Ids come from directory names a runtime (or anyone with write access to the root) created, so they are
/// untrusted path components: only `[A-Za-z0-9][A-Za-z0-9._-]{0,127}` is ever accepted.
public enum SandboxID {
    /// The longest id accepted.
    public static let maxLength = 128

    /// Whether `id` may be used as a sandbox id.
    public static func isValid(_ id: some StringProtocol) -> Bool {
        let bytes = id.utf8
        guard let first = bytes.first, bytes.count <= maxLength, ASCII.isAlphanumeric(first) else { return false }
        return bytes.allSatisfy {
            ASCII.isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }
}
