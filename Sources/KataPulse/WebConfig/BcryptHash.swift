import CCrypt
import Glibc

/// A bcrypt hash as `basic_auth_users` holds it (`$2y$10$` + 53 characters), checked with the system's
/// libcrypt (libxcrypt does `$2a$`, `$2b$` and `$2y$`).
struct BcryptHash: Sendable, Equatable {
    let text: String
    /// The work factor: checking a password costs 2^cost rounds.
    let cost: Int

    private static let alphabet = Set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// Nil unless `text` is a well-formed bcrypt hash.
    init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
            [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]),
            bytes[3] == UInt8(ascii: "$"), bytes[6] == UInt8(ascii: "$"),
            let cost = Int(String(decoding: bytes[4..<6], as: UTF8.self)), (4...31).contains(cost),
            bytes[7...].allSatisfy({ Self.alphabet.contains($0) })
        else { return nil }
        self.text = text
        self.cost = cost
    }

    /// Whether `password` hashes to this hash. Costs the hash's work factor whatever the answer; blocks the
    /// calling thread for it (tens of milliseconds at cost 10), so callers run it off the event loops.
    func matches(_ password: [UInt8]) -> Bool {
        // A C string ends at NUL: "secret\0anything" would otherwise pass as "secret". Still hashed, so a
        // refusal costs the same time.
        let hasNUL = password.contains(0)
        let phrase = hasNUL ? Array(password.prefix { $0 != 0 }) : password
        let computed: [UInt8]? = withUnsafeTemporaryAllocation(of: crypt_data.self, capacity: 1) { data in
            data.initialize(repeating: crypt_data())
            return (phrase + [0]).withUnsafeBufferPointer { phraseBuffer in
                phraseBuffer.withMemoryRebound(to: CChar.self) { phraseChars in
                    text.withCString { setting in
                        crypt_rn(
                            phraseChars.baseAddress, setting, UnsafeMutableRawPointer(data.baseAddress),
                            Int32(MemoryLayout<crypt_data>.size)
                        ).map { Array(UnsafeRawBufferPointer(start: $0, count: strlen($0))) }
                    }
                }
            }
        }
        guard let computed else { return false }
        return Self.constantTimeEqual(computed, Array(text.utf8)) && !hasNUL
    }

    /// Equality that takes the same time wherever the first difference is.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
