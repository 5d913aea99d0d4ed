import Dispatch
import Synchronization

/// Checks `Authorization: Basic` credentials against `basic_auth_users`, so that a hostile client costs
/// itself and never the scrapers or collection:
/// - bcrypt runs on one serial queue of its own, never on an event loop or the concurrency pool, so at most one
///   core is ever spent on it;
/// - a scraper's accepted credentials are remembered (one entry per user), so it never waits behind the bcrypt
///   queue again; refused ones are remembered in a small ring, so repeating a wrong password costs nothing;
/// - when more checks wait than ``maxWaitingChecks``, new ones are answered busy at once;
/// - an unknown user costs a bcrypt at the same work factor as a known one (against a configured user's hash).
final class BasicAuthenticator: Sendable {
    /// The outcome of one request's credentials.
    enum Verdict: Equatable {
        case allowed
        case denied
        /// Too many checks are waiting: try again later (429).
        case busy
    }

    private struct Credentials: Hashable {
        var user: String
        var password: [UInt8]
    }

    private struct Memory {
        var accepted: [String: [UInt8]] = [:]
        var refused: [Credentials] = []
        var nextRefusedSlot = 0
        var waiting = 0
    }

    static let maxWaitingChecks = 8
    static let refusedMemory = 64

    private let users: [String: BcryptHash]
    /// Checked for unknown users, so that they cost a bcrypt at a configured work factor.
    private let standInHash: BcryptHash?
    private let queue: DispatchQueue
    private let memory = Mutex(Memory())

    /// `users` maps names to bcrypt hashes already validated by the parser.
    init(users: [String: String], queue: DispatchQueue) {
        let hashes = users.compactMapValues { BcryptHash($0) }
        self.users = hashes
        self.standInHash = hashes.sorted { $0.key < $1.key }.first?.value
        self.queue = queue
    }

    /// The verdict on a request's `Authorization` header value (nil when absent).
    func check(authorization: String?) async -> Verdict {
        guard let authorization, let credentials = Self.decode(authorization) else { return .denied }
        let remembered = memory.withLock { memory -> Verdict? in
            if memory.accepted[credentials.user] == credentials.password { return .allowed }
            if memory.refused.contains(credentials) { return .denied }
            guard memory.waiting < Self.maxWaitingChecks else { return .busy }
            memory.waiting += 1
            return nil
        }
        if let remembered { return remembered }
        let hash = users[credentials.user]
        let standIn = standInHash
        let matches = await withCheckedContinuation { continuation in
            queue.async {
                let matches = (hash ?? standIn)?.matches(credentials.password) ?? false
                continuation.resume(returning: matches && hash != nil)
            }
        }
        memory.withLock { memory in
            memory.waiting -= 1
            if matches {
                memory.accepted[credentials.user] = credentials.password
            } else if memory.refused.count < Self.refusedMemory {
                memory.refused.append(credentials)
            } else {
                memory.refused[memory.nextRefusedSlot] = credentials
                memory.nextRefusedSlot = (memory.nextRefusedSlot + 1) % Self.refusedMemory
            }
        }
        return matches ? .allowed : .denied
    }

    /// `Basic base64(user:password)`, as Go's `Request.BasicAuth` reads it (scheme case-insensitive, the user
    /// ends at the first colon).
    private static func decode(_ header: String) -> Credentials? {
        let bytes = Array(header.utf8)
        let scheme = Array("basic ".utf8)
        guard bytes.count > scheme.count, zip(bytes, scheme).allSatisfy({ ASCII.lowercased($0) == $1 }),
            let decoded = Base64.decode(bytes[scheme.count...]),
            let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
        else { return nil }
        return Credentials(
            user: String(decoding: decoded[..<colon], as: UTF8.self), password: Array(decoded[(colon + 1)...]))
    }
}
