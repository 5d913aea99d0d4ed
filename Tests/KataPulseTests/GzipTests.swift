import Foundation
import NIOCore
import Testing

@testable import KataPulse
@testable import KataPulseSimulator

@Suite struct GzipTests {
    /// Pseudo-random exposition-like text: compressible, but not trivially.
    private func pseudoRandomText(bytes count: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(state: seed)
        let words = [
            "kata_", "shim_", "go_", "memstats_", "bytes", "{", "}", "=\"", "\",", "sandbox_id", " ", "\n", "le",
            "+Inf",
        ]
        var out: [UInt8] = []
        out.reserveCapacity(count + 32)
        while out.count < count {
            if random.next() % 3 == 0 {
                out += Array(String(random.next() % 1_000_000).utf8)
            } else {
                out += Array(words[Int(random.next() % UInt64(words.count))].utf8)
            }
        }
        return Array(out.prefix(count))
    }

    private func text(_ string: String) -> [UInt8] { Array(string.utf8) }

    static let systemGzip = "/bin/gzip"

    /// Runs the system gzip with `arguments` on `input` (written to a temporary file) and returns its stdout.
    private func runSystemGzip(_ arguments: [String], input: [UInt8]) throws -> (status: Int32, output: [UInt8]) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "katapulse-gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputFile = directory.appendingPathComponent("input")
        let outputFile = directory.appendingPathComponent("output")
        try Data(input).write(to: inputFile)
        #expect(FileManager.default.createFile(atPath: outputFile.path, contents: nil))
        let output = try FileHandle(forWritingTo: outputFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.systemGzip)
        process.arguments = arguments + [inputFile.path]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try output.close()
        return (process.terminationStatus, Array(try Data(contentsOf: outputFile)))
    }

    @Test func compressedDataDecompresses() throws {
        let data = text("# TYPE m gauge\nm{a=\"b\"} 1\n")
        let gzip = Gzip.compress(data)
        #expect(Array(gzip.prefix(3)) == [0x1F, 0x8B, 0x08])
        #expect(Gzip.decompress(gzip) == data)
    }

    @Test func segmentRecordsCRCAndLength() {
        let segment = DeflateSegment(compressing: text("123456789"), isFinal: true)
        #expect(segment.crc == 0xCBF4_3926)
        #expect(segment.length == 9)
        #expect(segment.isFinal)
        #expect(!DeflateSegment(compressing: text("x"), isFinal: false).isFinal)
    }

    @Test func trailerHoldsCRCAndLengthOfAllSegments() {
        let segments = [
            DeflateSegment(compressing: text("12345"), isFinal: false),
            DeflateSegment(compressing: text("6789"), isFinal: true),
        ]
        let member = Gzip.member(segments)
        let trailer = Array(member.suffix(8))
        #expect(trailer == [0x26, 0x39, 0xF4, 0xCB, 9, 0, 0, 0])
    }

    @Test func memberOfSeveralSegmentsDecompressesToTheConcatenation() throws {
        let parts = [
            text("kata_monitor_running_shim_count 3\n"),
            pseudoRandomText(bytes: 70_000, seed: 1),
            text(""),
            text("middle segment\n"),
            pseudoRandomText(bytes: 5_000, seed: 2),
        ]
        var segments = parts.dropLast().map { DeflateSegment(compressing: $0, isFinal: false) }
        segments.append(DeflateSegment(compressing: parts.last!, isFinal: true))
        let member = Gzip.member(segments)
        #expect(Gzip.decompress(member) == parts.flatMap { $0 })
    }

    @Test func sameSegmentCanBeReusedBehindDifferentPrefixes() throws {
        let body = DeflateSegment(compressing: pseudoRandomText(bytes: 20_000, seed: 3), isFinal: true, level: 9)
        for prefix in ["a 1\n", "b 2\nc 3\n", ""] {
            let member = Gzip.member([DeflateSegment(compressing: text(prefix), isFinal: false, level: 1), body])
            #expect(Gzip.decompress(member) == text(prefix) + pseudoRandomText(bytes: 20_000, seed: 3))
        }
    }

    @Test func emptyInput() throws {
        let gzip = Gzip.compress([])
        #expect(Gzip.decompress(gzip) == [])
        #expect(Array(gzip.suffix(8)) == [0, 0, 0, 0, 0, 0, 0, 0])
        let segments = [
            DeflateSegment(compressing: [UInt8](), isFinal: false),
            DeflateSegment(compressing: [UInt8](), isFinal: true),
        ]
        #expect(Gzip.decompress(Gzip.member(segments)) == [])
    }

    @Test func largeInputRoundTrips() throws {
        let data = pseudoRandomText(bytes: 1 << 20, seed: 42)
        let gzip = Gzip.compress(data)
        #expect(gzip.count < data.count / 2)
        #expect(Gzip.decompress(gzip) == data)
    }

    /// The snapshot's body is compressed from its slices: the result is the compression of their concatenation,
    /// whatever the cut (empty parts, one-byte parts, parts larger than the compressor's output chunk).
    @Test func partsCompressAsTheirConcatenation() throws {
        let data = pseudoRandomText(bytes: 700_000, seed: 9)
        var random = SplitMix64(state: 3)
        var parts: [ByteBuffer] = []
        var start = 0
        while start < data.count {
            let length = min(data.count - start, [0, 1, 17, 4_096, 200_000][Int(random.next() % 5)])
            parts.append(ByteBuffer(bytes: data[start..<start + length]))
            start += length
        }
        for isFinal in [true, false] {
            let segment = DeflateSegment(compressing: parts, isFinal: isFinal)
            #expect(segment.length == data.count)
            #expect(segment.crc == DeflateSegment(compressing: data, isFinal: isFinal).crc)
            let member = Gzip.member(
                isFinal ? [segment] : [segment, DeflateSegment(compressing: [UInt8](), isFinal: true)])
            #expect(Gzip.decompress(member) == data)
            #expect(segment.buffer.readableBytes < data.count / 2)
        }
        // Incompressible parts make the output outgrow its first guess.
        let noise = (0..<300_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let segment = DeflateSegment(
            compressing: [ByteBuffer(bytes: noise[..<5]), ByteBuffer(bytes: noise[5...])], isFinal: true)
        #expect(Gzip.decompress(Gzip.member([segment])) == noise)
    }

    /// The per-request lines go in stored blocks in front of the body compressed once: one valid member,
    /// also when they need more than one block (64 KiB each) or are empty.
    @Test func storedSegmentsPrecedeACompressedBody() throws {
        let body = pseudoRandomText(bytes: 100_000, seed: 5)
        let compressed = DeflateSegment(compressing: body, isFinal: true)
        for length in [0, 1, 3_000, 65_535, 65_536, 140_000] {
            let prefix = pseudoRandomText(bytes: length, seed: UInt64(length))
            let head = DeflateSegment.stored(prefix)
            #expect(head.length == length && !head.isFinal)
            #expect(head.buffer.readableBytes == length + (length + 65_534) / 65_535 * 5)
            #expect(Gzip.decompress(Gzip.member([head, compressed])) == prefix + body, "\(length) bytes")
        }
    }

    @Test func incompressibleInputRoundTrips() throws {
        var random = SplitMix64(state: 7)
        let data = (0..<300_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        #expect(Gzip.decompress(Gzip.compress(data)) == data)
        let split = Gzip.member([
            DeflateSegment(compressing: Array(data[..<100_000]), isFinal: false, level: 0),
            DeflateSegment(compressing: Array(data[100_000...]), isFinal: true, level: 9),
        ])
        #expect(Gzip.decompress(split) == data)
    }

    @Test(arguments: [Int32(0), 1, 6, 9, -1])
    func everyCompressionLevelRoundTrips(level: Int32) {
        let data = pseudoRandomText(bytes: 10_000, seed: UInt64(level + 10))
        let member = Gzip.member([DeflateSegment(compressing: data, isFinal: true, level: level)])
        #expect(Gzip.decompress(member) == data)
    }

    @Test func concatenatedMembersDecompressToTheConcatenation() {
        let joined = Gzip.compress(text("first\n")) + Gzip.compress(text("second\n"))
        #expect(Gzip.decompress(joined) == text("first\nsecond\n"))
    }

    @Test func corruptInputIsRejected() {
        let data = pseudoRandomText(bytes: 4_000, seed: 5)
        let gzip = Gzip.compress(data)
        #expect(Gzip.decompress([]) == nil)
        #expect(Gzip.decompress(text("not gzip at all")) == nil)
        #expect(Gzip.decompress([0x1F, 0x8B]) == nil)
        // Truncated anywhere.
        for length in [10, gzip.count / 2, gzip.count - 8, gzip.count - 1] {
            #expect(Gzip.decompress(Array(gzip.prefix(length))) == nil, "truncated to \(length)")
        }
        // A wrong CRC or length in the trailer.
        var badCRC = gzip
        badCRC[badCRC.count - 8] ^= 0x01
        #expect(Gzip.decompress(badCRC) == nil)
        var badLength = gzip
        badLength[badLength.count - 1] ^= 0x01
        #expect(Gzip.decompress(badLength) == nil)
        // Garbage after a valid member.
        #expect(Gzip.decompress(gzip + text("trailing garbage")) == nil)
    }

    @Test func corruptedBytesNeverDecodeToWrongData() {
        let data = pseudoRandomText(bytes: 2_000, seed: 6)
        let gzip = Gzip.compress(data)
        var random = SplitMix64(state: 99)
        for _ in 0..<300 {
            var mutated = gzip
            let position = 10 + Int(random.next() % UInt64(gzip.count - 10))
            mutated[position] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            if let result = Gzip.decompress(mutated) {
                // Only a change zlib cannot see may pass, and then the data must be intact.
                #expect(result == data, "mutation at \(position)")
            }
        }
    }

    @Test func outputOverTheLimitIsRejected() {
        let data = pseudoRandomText(bytes: 200_000, seed: 8)
        let gzip = Gzip.compress(data)
        #expect(Gzip.decompress(gzip, limit: data.count) == data)
        #expect(Gzip.decompress(gzip, limit: data.count - 1) == nil)
        #expect(Gzip.decompress(gzip, limit: 100) == nil)
        // A small bomb: 16 MiB of zeros in a few KiB.
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 16 << 20))
        #expect(bomb.count < 100_000)
        #expect(Gzip.decompress(bomb, limit: 1 << 20) == nil)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: GzipTests.systemGzip)))
    func systemGzipDecompressesOurOutput() throws {
        let data = pseudoRandomText(bytes: 300_000, seed: 11)
        let single = try runSystemGzip(["-dc"], input: Gzip.compress(data))
        #expect(single.status == 0)
        #expect(single.output == data)
        let segments = Gzip.member([
            DeflateSegment(compressing: text("prefix 1\n"), isFinal: false),
            DeflateSegment(compressing: Array(data[..<1000]), isFinal: false),
            DeflateSegment(compressing: Array(data[1000...]), isFinal: true),
        ])
        let segmented = try runSystemGzip(["-dc"], input: segments)
        #expect(segmented.status == 0)
        #expect(segmented.output == text("prefix 1\n") + data)
        let empty = try runSystemGzip(["-dc"], input: Gzip.compress([]))
        #expect(empty.status == 0)
        #expect(empty.output == [])
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: GzipTests.systemGzip)))
    func weDecompressSystemGzipOutput() throws {
        let data = pseudoRandomText(bytes: 100_000, seed: 12)
        let compressed = try runSystemGzip(["-c", "-9"], input: data)
        #expect(compressed.status == 0)
        #expect(Gzip.decompress(compressed.output) == data)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: GzipTests.systemGzip)))
    func systemGzipRejectsACorruptTrailer() throws {
        var gzip = Gzip.compress(text("hello\n"))
        gzip[gzip.count - 5] ^= 0xFF
        let result = try runSystemGzip(["-dc"], input: gzip)
        #expect(result.status != 0)
    }
}
