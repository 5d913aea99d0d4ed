/// Checks one property of a fuzz target.
///
/// A broken property traps, like a crash: libFuzzer then writes the input out as `crash-<sha1>` and stops,
/// and the message says which property failed and how.
public func fuzzRequire(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID,
    line: UInt = #line
) {
    guard !condition() else { return }
    fatalError("property failed: \(message())", file: file, line: line)
}

/// A value in failure messages: a Swift literal, cut after `limit` characters.
public func fuzzDescribe(_ text: String, limit: Int = 300) -> String {
    let literal = text.debugDescription
    guard literal.count > limit else { return literal }
    return String(literal.prefix(limit)) + "… (\(text.utf8.count) bytes)"
}

/// Bytes in failure messages, as text (invalid UTF-8 shown as U+FFFD).
public func fuzzDescribe(_ bytes: some Collection<UInt8>, limit: Int = 300) -> String {
    fuzzDescribe(String(decoding: bytes, as: UTF8.self), limit: limit)
}
