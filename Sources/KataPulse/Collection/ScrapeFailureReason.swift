/// Why one shim's metrics could not be collected in a round.
public enum ScrapeFailureReason: String, Sendable, CaseIterable, Comparable {
    /// No `shim-monitor.sock` under any sandbox root.
    case noSocket = "no_socket"
    /// The socket refused or dropped the connection.
    case connect
    /// The shim did not answer in full within the deadline.
    case timeout
    /// The shim answered with a status other than 200.
    case httpStatus = "http_status"
    /// The body was larger than the body cap.
    case bodyTooLarge = "body_too_large"
    /// The connection failed while reading the response.
    case read
    /// The body is not valid text format.
    case parse
    /// The body is valid but over a per-sandbox limit (series, labels, lengths).
    case limit

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
