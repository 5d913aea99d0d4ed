/// One input from libFuzzer, as bytes.
///
/// A target receives it in `LLVMFuzzerTestOneInput(data, size)`; `data` may be null when `size` is 0.
public struct FuzzInput: Sendable {
    public let bytes: [UInt8]

    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    }

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The input cut at every `separator` byte, empty fields kept, padded with empty fields to `count`
    /// (anything after the `count - 1`th separator stays in the last field).
    ///
    /// Targets that take several strings (a URI and header values) read them this way, so that libFuzzer's
    /// byte mutations move freely between the fields.
    public func fields(separatedBy separator: UInt8, count: Int) -> [ArraySlice<UInt8>] {
        var fields = bytes.split(
            separator: separator, maxSplits: max(0, count - 1), omittingEmptySubsequences: false)
        while fields.count < count { fields.append([]) }
        return fields
    }
}
