import Testing

@testable import KataPulse

@Suite struct SandboxIDTests {
    private static let valid: [String] = [
        "a", "Z", "0", "abc123", "0f2c4e6a8b1d3f5a7c9e0b2d4f6a8c1e3b5d7f9a0c2e4f6a8b1d3f5a7c9e0b2d",
        "sandbox-1", "sandbox_1", "sandbox.1", "a.b-c_d", "A..b", "x-", "x_", "x.",
        String(repeating: "a", count: 128), "9" + String(repeating: ".", count: 127),
    ]

    private static let invalid: [String] = [
        "", ".", "..", "...", "-a", "_a", ".a", ".hidden", "a/b", "/abs", "a/../b", "../etc", "a\\b", "a\u{0}b",
        "\u{0}", "a b", " a", "a ", "a\tb", "a\nb", "é", "aé", "日本", "a🚀", "ａ", "１", "a:b", "a@b", "a+b",
        "a%2F", "a*", "a~", String(repeating: "a", count: 129), String(repeating: "a", count: 4096),
    ]

    @Test(arguments: valid)
    func acceptsSafeIds(_ id: String) {
        #expect(SandboxID.isValid(id))
    }

    @Test(arguments: invalid)
    func rejectsUnsafeIds(_ id: String) {
        #expect(!SandboxID.isValid(id))
    }

    @Test func lengthLimitIsCountedInBytes() {
        #expect(SandboxID.maxLength == 128)
        #expect(SandboxID.isValid(String(repeating: "b", count: SandboxID.maxLength)))
        #expect(!SandboxID.isValid(String(repeating: "b", count: SandboxID.maxLength + 1)))
        // 127 ASCII bytes plus one two-byte character: 129 bytes, and not alphanumeric anyway.
        #expect(!SandboxID.isValid(String(repeating: "b", count: 127) + "é"))
    }

    @Test func acceptsSubstrings() {
        let path = "/run/vc/sbs/abc-123/shim-monitor.sock"
        let component = path.split(separator: "/")[3]
        #expect(component == "abc-123")
        #expect(SandboxID.isValid(component))
        #expect(!SandboxID.isValid(path.split(separator: "/", omittingEmptySubsequences: false)[0]))
    }

    @Test func everyAsciiByteIsClassifiedAsDocumented() {
        for byte in UInt8(0)...UInt8(127) {
            let scalar = Character(Unicode.Scalar(byte))
            let alphanumeric = scalar.isASCII && (scalar.isLetter || scalar.isNumber)
            let inner = alphanumeric || scalar == "." || scalar == "_" || scalar == "-"
            #expect(SandboxID.isValid(String(scalar)) == alphanumeric, "first byte \(byte)")
            #expect(SandboxID.isValid("a" + String(scalar)) == inner, "later byte \(byte)")
        }
    }
}
