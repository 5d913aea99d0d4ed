/// A command line or environment value that cannot be used: the process exits 2 with this message.
struct UsageError: Error, CustomStringConvertible, Equatable {
    var description: String
}

/// What a value parser expected, before it is known which flag or variable the text came from.
struct ValueError: Error {
    var expected: String
}
